import type { Hub } from 'trpc-live/core';
import type { Db } from '../db/database';
import { perDatabase } from '../db/perDatabase';
import { getHub } from '../appHub';
import { REVOCATION_REFRESH_MS, sessionRevocations, type Revocation, type SessionRevocations } from './revocations';

/**
 * How long a revocation keeps being applied to new streams, in ms: a stream
 * whose session was verified just before the sign-out may attach to the hub
 * just after it; the sweep closes it on its next tick.
 */
const RECENT_MS = 2_000;

/**
 * Ends the open live streams of revoked sessions with UNAUTHORIZED (stream
 * groups carry the session id, see `src/server/trpc/init.ts`): at once for a
 * sign-out on this instance, and within {@link REVOCATION_REFRESH_MS} for one
 * on another instance sharing the database. One timer per process, not one
 * per stream, unref'd, and only while this hub has streams.
 */
export class SessionStreamSweep {
  private timer: ReturnType<typeof setInterval> | null = null;
  private recent: { revocation: Revocation; seenAt: number }[] = [];

  constructor(
    private readonly revocations: SessionRevocations,
    private readonly hub: () => Hub = getHub,
  ) {
    revocations.onRevoked((fresh) => {
      const now = Date.now();
      for (const revocation of fresh) this.recent.push({ revocation, seenAt: now });
      this.close(fresh);
    });
  }

  /** A stream of a revocable session opened: make sure the sweep runs. */
  watch(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), REVOCATION_REFRESH_MS);
    this.timer.unref();
  }

  /** True while the sweep's timer runs (tests). */
  get running(): boolean {
    return this.timer !== null;
  }

  private tick(): void {
    // Stops with the last stream, or with its database (a timer may outlive both in a test's or a shutdown's teardown).
    if (this.hub().connectionCount === 0 || !this.revocations.open) {
      clearInterval(this.timer!);
      this.timer = null;
      return;
    }
    const now = Date.now();
    this.recent = this.recent.filter((entry) => now - entry.seenAt < RECENT_MS);
    this.close(this.recent.map((entry) => entry.revocation));
    // Revocations written by other instances: the listener closes their streams.
    this.revocations.refresh(now);
  }

  private close(revocations: readonly Revocation[]): void {
    const hub = this.hub();
    for (const { sessionId, tenantId } of revocations) {
      hub.closeOwned({ scope: tenantId, groups: { session: sessionId } }, 'unauthorized');
    }
  }
}

/** The process-wide {@link SessionStreamSweep} of a database (on `globalThis`, like the hub). */
export function sessionStreams(db: Db): SessionStreamSweep {
  return perDatabase('sessionStreams', db, (d) => new SessionStreamSweep(sessionRevocations(d)));
}
