/**
 * No secret that is in the repository verifies anything: the production
 * server started with no AUTH_SECRET (as `npm start` from a clean clone)
 * refuses an admin token signed with any secret-like string of any tracked
 * file, and keeps the secret it generated across a restart.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_FILE_NAME } from '../../src/server/auth/secretFile';
import { DEMO_PASSWORD } from '../../src/server/db/seed';
import { startProductionServer, type ProductionServer } from '../helpers/prodServer';
import { makeToken } from '../helpers/tokens';

const root = path.resolve(import.meta.dirname, '../..');

/**
 * Every secret-like string of the tracked files: string literals of 16+
 * characters without whitespace (quoted with ', " or `), and whatever is
 * assigned to a name containing "secret", whatever its length.
 */
function secretLikeStrings(): string[] {
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: root }).toString().split('\0').filter(Boolean);
  const found = new Set<string>();
  for (const file of files) {
    let text: string;
    try {
      const bytes = readFileSync(path.join(root, file));
      if (bytes.includes(0)) continue; // binary
      text = bytes.toString('utf8');
    } catch {
      continue; // deleted in the working tree
    }
    for (const match of text.matchAll(/(['"`])([^\s'"`\\]{16,})\1/g)) found.add(match[2]!);
    for (const match of text.matchAll(/secret\w*['"]?\s*[:=]\s*(['"`])([^'"`\n]+)\1/gi)) found.add(match[2]!);
  }
  return [...found];
}

/** `orders.list` of globex with a bearer token: the HTTP status. */
async function ordersStatus(url: string, token: string): Promise<number> {
  const res = await fetch(`${url}/api/trpc/orders.list`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

/** The restart below need not wait out a load balancer's grace. */
const QUICK_STOP = { LIVE_DRAIN_GRACE_MS: '0', LIVE_DRAIN_TIMEOUT_MS: '2000' };

const globexAdmin = { sub: 'usr_carol', claims: { tid: 'globex', role: 'admin', name: 'Carol Admin', email: 'carol@globex.test' } };

describe('no known secret is accepted (production server, no AUTH_SECRET)', () => {
  let server: ProductionServer;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'trpc-live-secret-prod-'));
    server = await startProductionServer({ AUTH_SECRET: '', DATA_DIR: dataDir, ...QUICK_STOP });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('generates its secret in DATA_DIR with mode 0600 on first start', () => {
    const file = path.join(dataDir, SECRET_FILE_NAME);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url').length).toBe(32);
    expect(server.output()).toContain(`generated now in ${file}`);
  });

  it('refuses an admin token signed with each secret-like string of the repository', async () => {
    const candidates = secretLikeStrings();
    // The scan must see what it is meant to: long literals and short secret assignments.
    expect(candidates.length).toBeGreaterThan(500);
    expect(candidates).toEqual(expect.arrayContaining(['x-live-credential', 'trpc-live:stream']));
    const generated = readFileSync(path.join(dataDir, SECRET_FILE_NAME), 'utf8').trim();
    // Control: the server's own secret is accepted, so a refusal below means something.
    expect(await ordersStatus(server.url, await makeToken({ ...globexAdmin, key: Buffer.from(generated, 'base64url') }))).toBe(200);
    const accepted: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < candidates.length) {
        const secret = candidates[next++]!;
        const token = await makeToken({ ...globexAdmin, key: new TextEncoder().encode(secret) });
        const status = await ordersStatus(server.url, token);
        if (status !== 401) accepted.push(`${status}: ${secret}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(accepted).toEqual([]);
    // ~1,500 requests: 4-7 s here, generous for a loaded 2-core CI machine.
  }, 120_000);

  it('keeps the generated secret across a restart: a session survives it', async () => {
    const res = await fetch(`${server.url}/api/trpc/auth.signIn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url },
      body: JSON.stringify({ json: { email: 'carol@globex.test', password: DEMO_PASSWORD } }),
    });
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
    const token = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
    const before = readFileSync(path.join(dataDir, SECRET_FILE_NAME), 'utf8');
    await server.stop();
    server = await startProductionServer({ AUTH_SECRET: '', DATA_DIR: dataDir, ...QUICK_STOP });
    expect(server.output()).toContain(`kept in ${path.join(dataDir, SECRET_FILE_NAME)}`);
    expect(readFileSync(path.join(dataDir, SECRET_FILE_NAME), 'utf8')).toBe(before);
    expect(await ordersStatus(server.url, token)).toBe(200);
  }, 120_000);

  it('refuses to start with an AUTH_SECRET shorter than 32 bytes, naming the variable', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trpc-live-secret-short-'));
    try {
      await expect(startProductionServer({ AUTH_SECRET: 'too-short-secret', DATA_DIR: dir })).rejects.toThrow(
        /exited early[\s\S]*AUTH_SECRET must be at least 32 bytes long/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
