import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `npm run live:check` on the demo app, run as that script runs it (the package's bin from source under
// tsx, with package.json's arguments): the publishes outside procedures (notifications, the import
// worker, the operator script) are listed beside the mutations, and the queries only they refresh
// count as covered.

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('live:check on the demo app', () => {
  it('lists the publishers outside procedures beside the mutations, with no errors', async () => {
    const script: string = JSON.parse(readFileSync(new URL('package.json', `file://${root}`), 'utf8')).scripts['live:check'];
    const args = script.replace(/^tsx /, '').split(' ');
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', ...args], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
      );
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      [
        'Publishers outside procedures (3):',
        '  import-worker: invalidates orders, imports; publishes imports (job)',
        '  notify: invalidates notifications; publishes notifications (event)',
        '  scripts/publish.ts: invalidates orders, products, notifications, imports; publishes -',
      ].join('\n'),
    );
    expect(result.stdout).toContain('  notifications\n    read by      notifications.list\n    invalidated  - (no mutation)\n    published by notify, scripts/publish.ts\n');
    expect(result.stdout).not.toMatch(/^ {2}notifications\.list$/m);
    // Issue 17: which queries are pushed, and how.
    expect(result.stdout).toContain('Queries whose results are pushed (8):\n  dashboard.stats     per scope (once per tenant)\n');
    expect(result.stdout).toMatch(/^ {2}orders\.byId {9}per scope \(once per tenant\)$/m);
  }, 70_000);
});
