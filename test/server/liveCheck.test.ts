import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../packages/trpc-live/src/cli/check';

// `npm run live:check` on the demo app (the same arguments as package.json's script, run in-process):
// the publishes outside procedures (notifications, the import worker, the operator script) are
// listed beside the mutations, and the queries only they refresh count as covered.

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('live:check on the demo app', () => {
  it('lists the publishers outside procedures beside the mutations, with no errors', async () => {
    const result = await runCli(['check', 'src/server/routers/_app.ts', '--import', 'scripts/publish.ts'], root);
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
  }, 60_000);
});
