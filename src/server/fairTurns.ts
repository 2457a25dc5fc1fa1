/**
 * Round-robin turns for procedure calls, one call per event-loop turn.
 *
 * tRPC runs the calls of a batch, and the synchronous SQLite work of each,
 * back to back in microtasks: one request of 10 calls of a 10 ms query holds
 * the loop 100 ms, and the next request of the same client waits in the
 * same poll phase as everyone else's. A call that takes a turn starts in its
 * own `setImmediate` callback, so the health check, other users' requests
 * and the live stream's writes run between any two calls; and turns rotate
 * between keys (users), so a user with a long queue delays another user's
 * call by at most one call of each busy user, not by its whole queue.
 *
 * A turn only gates the start of a call: the call's synchronous part runs
 * in it; whatever it awaits later (a backend, a timer) does not hold turns.
 *
 * A user alone gets about a third of the event loop: when the next turn
 * would be the same user's again with no one else waiting, it waits twice
 * as long as that user's last turn (and the I/O after it) took; a call of
 * anyone else arriving meanwhile goes first. Calls under 0.5 ms (a page's
 * queries) are not paced. Busy back to back, the process left the
 * health check and the streams to the OS scheduler's mercy on a loaded
 * machine (health p99 80 ms at a load average of 8 on 2 cores; the loop
 * itself never waited more than one turn).
 */
export interface FairTurns {
  /** Resolves when it is a call of `key`'s turn to start. */
  take(key: string): Promise<void>;
  /** Calls waiting for a turn. */
  readonly waiting: number;
}

/** Options of {@link createFairTurns}. */
export interface FairTurnsOptions {
  /** Runs a grant on the next turn of the event loop. @default setImmediate */
  schedule?: (grant: () => void) => void;
  /** Runs a grant after `ms` (a user's own next turn, paced). @default setTimeout */
  delay?: (grant: () => void, ms: number) => void;
  /** @default performance.now */
  now?: () => number;
}

/** A lone user's next turn waits this many times its last turn: it gets a third of the loop. */
const PACE_FACTOR = 2;
/** Pacing shorter than this is not worth a timer (setTimeout waits at least 1 ms). */
const MIN_PACE_MS = 0.5;
/** A longer gap since the user's last turn was idle time (no turn holds the loop for 20 ms): no pacing. */
const MAX_PACE_MS = 20;

/**
 * Creates a turn scheduler. A turn granted in the check phase (setImmediate)
 * hands the next one to the next loop iteration, after its poll phase has
 * read the sockets.
 */
export function createFairTurns(options: FairTurnsOptions = {}): FairTurns {
  const schedule = options.schedule ?? setImmediate;
  const delay = options.delay ?? ((grant, ms) => void setTimeout(grant, ms));
  const now = options.now ?? (() => performance.now());
  // Map order is the rotation: the key served goes to the back.
  const queues = new Map<string, Array<() => void>>();
  let waiting = 0;
  let immediate = false;
  /** The key whose next turn waits for the pace timer; anyone else is served meanwhile. */
  let pacing: string | null = null;
  let last: { key: string; at: number } | null = null;
  const grantTo = (key: string, resolvers: Array<() => void>) => {
    queues.delete(key);
    const resolve = resolvers.shift()!;
    if (resolvers.length) queues.set(key, resolvers);
    waiting--;
    last = { key, at: now() };
    resolve();
  };
  const scheduleNext = () => {
    if (immediate || queues.size === 0) return;
    immediate = true;
    schedule(onTurn);
  };
  const onTurn = () => {
    immediate = false;
    let entry: [string, Array<() => void>] | undefined;
    for (const candidate of queues) {
      if (candidate[0] !== pacing) {
        entry = candidate;
        break;
      }
    }
    if (!entry) return; // only the paced key waits: its timer grants it
    const [key, resolvers] = entry;
    const gap = last && last.key === key ? now() - last.at : -1;
    if (queues.size === 1 && gap >= MIN_PACE_MS && gap <= MAX_PACE_MS) {
      pacing = key;
      delay(onPaced, PACE_FACTOR * gap);
      return;
    }
    grantTo(key, resolvers);
    scheduleNext();
  };
  const onPaced = () => {
    const key = pacing!;
    pacing = null;
    const resolvers = queues.get(key);
    if (resolvers) grantTo(key, resolvers);
    scheduleNext();
  };
  return {
    take(key) {
      return new Promise<void>((resolve) => {
        const queue = queues.get(key);
        if (queue) queue.push(resolve);
        else queues.set(key, [resolve]);
        waiting++;
        scheduleNext();
      });
    },
    get waiting() {
      return waiting;
    },
  };
}
