import type { BackendListener, PublishedEntry, ResetReason } from '../core/index.ts';
import type { RecentEntries } from './recentEntries.ts';
import { SeenSerials } from './seenSerials.ts';

/**
 * The one way entries and gaps reach the backend's hub, whichever path they
 * came by (the channel, a publish-only reply, a local copy): it hands the
 * hub only the first copy of each signal and counts what it dropped and
 * every gap it signalled.
 */
export class Delivery {
  private listener: BackendListener | null = null;
  /** Which identities this backend's hub got already (every copy after the first is dropped). */
  private readonly seen: SeenSerials;
  private gapCount = 0;
  private dropped = 0;

  /** `recent`: where every entry handed to the hub is remembered, for replays to hand over the same object. */
  constructor(
    seen = new SeenSerials(),
    private readonly recent: RecentEntries | null = null,
  ) {
    this.seen = seen;
  }

  /** Gaps signalled to the hub (each resets every connection). */
  get gaps(): number {
    return this.gapCount;
  }
  /** Copies of an already delivered signal that were dropped. */
  get duplicatesDropped(): number {
    return this.dropped;
  }

  /** The hub that gets what is delivered (`null`: nobody, after close). */
  attach(listener: BackendListener | null): void {
    this.listener = listener;
  }

  /**
   * Hands an entry to the hub unless a copy of the same signal went first
   * (see `SeenSerials`). Entries without an identity (written by a version
   * without them) are their own identity.
   */
  deliver(entry: PublishedEntry): void {
    if (entry.origin !== undefined && entry.serial !== undefined) {
      const check = this.seen.check(entry.origin, entry.serial);
      if (check !== 'new') {
        this.dropped++;
        // The hub got this signal at another position: its head still moves past this one.
        this.listener?.advance?.(entry.epoch, entry.seq);
        // Too old to tell a first copy from a repeat: dropped, and the reset covers it if it was new.
        if (check === 'unknown') this.gap('gap');
        return;
      }
    }
    this.recent?.remember(entry);
    this.listener?.deliver(entry);
  }

  /** Every connection of the hub gets a reset: its clients may have missed something. */
  gap(reason: ResetReason): void {
    this.gapCount++;
    this.listener?.gap?.(reason);
  }
}
