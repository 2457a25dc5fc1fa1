import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS, SERVER_V8_FLAGS } from '../../scripts/serverFlags.mjs';

// Issue 17 item 9: the server's V8 flags (scripts/serverFlags.mjs: no memory reducer, which cost a quiet live server
// more CPU per change than the change itself) must reach the server however it is started.

const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const command = `node ${SERVER_NODE_FLAGS.join(' ')} dist/main.js`;

describe('server flags', () => {
  it('turns the memory reducer off', () => {
    expect(SERVER_V8_FLAGS).toContain('--no-memory-reducer');
    expect(SERVER_NODE_FLAGS).toEqual(expect.arrayContaining([...SERVER_V8_FLAGS, '--enable-source-maps']));
  });

  it('starts a Node process when given them (every flag is one this Node knows)', () => {
    const run = spawnSync(process.execPath, [...SERVER_NODE_FLAGS, '-e', 'process.exit(0)'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('passes them in npm run serve and in the README deploy commands', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.serve).toBe(`NODE_ENV=production ${command}`);
    const readme = read('README.md');
    expect(readme).toContain(`NODE_ENV=production ${command}\n`);
    expect(readme).toContain(`ExecStart=/usr/bin/${command}\n`);
    // No launch line of the server without them.
    const launches = readme.split('\n').filter((line) => /\bnode\b.*dist\/main\.js/.test(line) && !line.trimStart().startsWith('npm'));
    expect(launches.length).toBeGreaterThanOrEqual(2);
    for (const line of launches) expect(line).toContain(command);
  });

  it('passes them in npm start and in the test and benchmark helpers', () => {
    expect(read('scripts/start.mjs')).toContain("[...SERVER_NODE_FLAGS, 'dist/main.js'");
    expect(read('test/helpers/prodServer.ts')).toContain("[...SERVER_NODE_FLAGS, 'dist/main.js']");
    // The benchmark server runs without source maps, as it always has (they cost only when a stack is read).
    expect(read('bench/lib/appServer.ts')).toContain("...SERVER_V8_FLAGS, ...(options.nodeArgs ?? []), 'dist/main.js']");
  });
});
