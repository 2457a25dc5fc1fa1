import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS } from '../../scripts/serverFlags.mjs';
import { soakServerNodeArgs } from '../../soak/lib/server';

// The soak scenarios judge the production server: its host must run with the flags `npm start` gives it.
describe('the soak server host', () => {
  it('runs with every flag of the production server, then the host script', () => {
    const args = soakServerNodeArgs(['--trace-gc']);
    expect(SERVER_NODE_FLAGS.length).toBeGreaterThan(0);
    for (const flag of SERVER_NODE_FLAGS) expect(args).toContain(flag);
    expect(args).toContain('--expose-gc');
    expect(args).toContain('--trace-gc');
    expect(args.at(-1)).toMatch(/soak\/lib\/serverHost\.mjs$/);
  });
});
