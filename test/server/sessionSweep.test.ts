import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Hub } from 'trpc-live/core';
import { REVOCATION_REFRESH_MS, SessionRevocations } from '../../src/server/auth/revocations';
import { SessionStreamSweep } from '../../src/server/auth/sessionStreams';
import { openDb } from '../../src/server/db/database';

// The sweep that closes revoked sessions' streams reads other instances' revocations from SQLite on a timer. A
// timer that outlives its database (a torn-down test app, a shutdown) stops instead of throwing "The database
// connection is not open" from a timer callback (seen as an unhandled error in CI, test/server/pushOverHttp.test.ts).

describe('session stream sweep', () => {
  afterEach(() => vi.useRealTimers());

  it('stops its timer without reading once its database is closed while streams are still counted', () => {
    vi.useFakeTimers();
    const db = openDb(':memory:');
    const hub = { connectionCount: 1, closeOwned: () => 0 } as unknown as Hub;
    const sweep = new SessionStreamSweep(new SessionRevocations(db), () => hub);
    sweep.watch();
    vi.advanceTimersByTime(REVOCATION_REFRESH_MS);
    expect(sweep.running).toBe(true);

    db.close();
    expect(() => vi.advanceTimersByTime(REVOCATION_REFRESH_MS)).not.toThrow();
    expect(sweep.running).toBe(false);
  });
});
