import { messageOf } from './redisErrors.ts';

/** What {@link TwinMarks} needs from its backend. */
export interface TwinMarksOptions {
  /** Highest serial delivered locally (see `LocalFallback.lastSerial`). */
  readonly highestLocal: () => number;
  /** Writes the mark in Redis (see `RedisLink.markTwins`). */
  readonly write: (upTo: number) => Promise<void>;
  /** Redis failed the mark: it is unreachable. */
  readonly onUnreachable: (why: string) => void;
}

/**
 * Records in Redis that this origin's serials up to the highest delivered
 * locally may have a twin, so no replay serves them (see SINCE_SCRIPT).
 * Sent when a command in flight is delivered locally, so it is queued right
 * behind the command (Redis runs both when it answers again), and again
 * before a forward, awaited.
 */
export class TwinMarks {
  /** Highest serial Redis confirmed as possibly twinned. */
  private marked = 0;
  private queued = false;

  constructor(private readonly options: TwinMarksOptions) {}

  /** Highest serial Redis confirmed as possibly twinned: a command sent after this was read runs after the mark. */
  get confirmed(): number {
    return this.marked;
  }

  /** Some local copy is not marked in Redis yet. */
  get pending(): boolean {
    return this.options.highestLocal() > this.marked;
  }

  /** One mark for every local copy made in this turn (a fallback delivers all waiting publishes at once). */
  queue(): void {
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      // Fails at once on a closed connection: the join marks them again before forwarding.
      this.mark().catch(() => undefined);
    });
  }

  /** Before any copy can be written: what was delivered locally is never replayed from Redis. `false` if Redis failed. */
  async ensure(): Promise<boolean> {
    while (this.pending) {
      try {
        await this.mark();
      } catch (error) {
        this.options.onUnreachable(messageOf(error));
        return false;
      }
    }
    return true;
  }

  private async mark(): Promise<void> {
    const upTo = this.options.highestLocal();
    await this.options.write(upTo);
    this.marked = Math.max(this.marked, upTo);
  }
}
