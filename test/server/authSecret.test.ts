import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { authConfigFromEnv } from '../../src/server/auth/config';
import { SECRET_FILE_NAME } from '../../src/server/auth/secretFile';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'trpc-live-secret-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the auth secret', () => {
  it('refuses an AUTH_SECRET shorter than 32 bytes, naming the variable', async () => {
    await expect(authConfigFromEnv({ AUTH_SECRET: 'a'.repeat(31), DATA_DIR: tempDir() })).rejects.toThrow(
      /^AUTH_SECRET must be at least 32 bytes long \(it has 31\)/,
    );
    // Bytes, not characters: 16 two-byte characters are enough.
    const config = await authConfigFromEnv({ AUTH_SECRET: 'é'.repeat(16), DATA_DIR: tempDir() });
    expect(config.secret.length).toBe(32);
    expect(config.secretSource).toEqual({ kind: 'env' });
  });

  it('generates 32 random bytes in DATA_DIR with mode 0600 when AUTH_SECRET is unset, and reuses them', async () => {
    const dir = path.join(tempDir(), 'not-yet-there');
    const first = await authConfigFromEnv({ DATA_DIR: dir });
    const file = path.join(dir, SECRET_FILE_NAME);
    expect(first.secretSource).toEqual({ kind: 'file', file, created: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url')).toEqual(Buffer.from(first.secret));
    expect(first.secret.length).toBe(32);
    const second = await authConfigFromEnv({ DATA_DIR: dir, AUTH_SECRET: '' });
    expect(second.secretSource).toEqual({ kind: 'file', file, created: false });
    expect(Buffer.from(second.secret)).toEqual(Buffer.from(first.secret));
    // Another data folder gets another secret.
    const other = await authConfigFromEnv({ DATA_DIR: tempDir() });
    expect(Buffer.from(other.secret)).not.toEqual(Buffer.from(first.secret));
  });

  it('refuses to start on a secret file that holds no valid secret', async () => {
    const dir = tempDir();
    await authConfigFromEnv({ DATA_DIR: dir });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(dir, SECRET_FILE_NAME), 'short\n');
    await expect(authConfigFromEnv({ DATA_DIR: dir })).rejects.toThrow(/auth-secret does not hold a secret of 32\+ bytes/);
  });

  it('gives every process the same secret when several create it at once', async () => {
    const dir = tempDir();
    const startAt = Date.now() + 3_000;
    const script = `
      import { loadOrCreateSecret } from ${JSON.stringify(path.join(root, 'src/server/auth/secretFile.ts'))};
      while (Date.now() < ${startAt});
      const { secret, created } = loadOrCreateSecret(${JSON.stringify(dir)});
      console.log(JSON.stringify({ secret: Buffer.from(secret).toString('hex'), created }));`;
    const outputs = await Promise.all(
      Array.from({ length: 6 }, () => run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root })),
    );
    const results = outputs.map((o) => JSON.parse(o.stdout) as { secret: string; created: boolean });
    expect(new Set(results.map((r) => r.secret)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(results[0]!.secret).toBe(Buffer.from(readFileSync(path.join(dir, SECRET_FILE_NAME), 'utf8').trim(), 'base64url').toString('hex'));
  });
});
