import { describe, expect, it } from 'vitest';
import { startProductionServer } from '../helpers/prodServer';

// The built server (`node dist/main.js`) parses its environment first (src/server/env.ts): a malformed value stops
// startup, naming the variable. Before, LIVE_TICKET_TTL_MS=30s started a server whose tickets lived 30 s.
describe('production server environment', () => {
  it('refuses to start with a malformed LIVE_TICKET_TTL_MS, naming the variable', async () => {
    await expect(startProductionServer({ LIVE_TICKET_TTL_MS: '30s' })).rejects.toThrow(
      /exited early[\s\S]*LIVE_TICKET_TTL_MS must be a whole number of milliseconds of at least 1, got "30s"/,
    );
  }, 600_000);

  it('refuses to start with an unknown LIVE_TRANSPORT, listing the allowed ones', async () => {
    await expect(startProductionServer({ LIVE_TRANSPORT: 'quick' })).rejects.toThrow(/LIVE_TRANSPORT must be one of fast, stock, got "quick"/);
  }, 120_000);
});
