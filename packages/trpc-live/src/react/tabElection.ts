import type { LockManagerLike } from './tabEnvironment.ts';

/**
 * A tab's place in the Web Locks election of the tabs sharing a stream: the
 * tab granted the exclusive lock leads until it leaves (or its page dies,
 * which frees the lock too); the others wait in line, so when the leader
 * goes, the next one is elected without any message between tabs.
 */
export class TabElection {
  private readonly waiting = new AbortController();
  /** Frees the lock this tab holds; null while it waits (or after it left). */
  private release: (() => void) | null = null;
  private left = false;

  /** Queues for the lock `name`; calls `onElected` once, when this tab is granted it. */
  constructor(locks: LockManagerLike, name: string, onElected: () => void) {
    locks
      .request(name, { signal: this.waiting.signal }, () => {
        if (this.left) return Promise.resolve();
        return new Promise<void>((resolve) => {
          // Held until this tab leaves.
          this.release = resolve;
          onElected();
        });
      })
      .catch(() => {
        // Aborted while waiting (left before winning the election).
      });
  }

  /** Leaves the line, or frees the lock if this tab holds it. Idempotent. */
  leave(): void {
    this.left = true;
    this.waiting.abort();
    this.release?.();
    this.release = null;
  }
}
