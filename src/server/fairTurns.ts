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
 */
export interface FairTurns {
  /** Resolves when it is a call of `key`'s turn to start. */
  take(key: string): Promise<void>;
  /** Calls waiting for a turn. */
  readonly waiting: number;
}

/**
 * Creates a turn scheduler. `schedule` defaults to `setImmediate`: a turn
 * granted in the check phase hands the next one to the next loop iteration,
 * after its poll phase has read the sockets.
 */
export function createFairTurns(schedule: (grant: () => void) => void = setImmediate): FairTurns {
  // Map order is the rotation: the key served goes to the back.
  const queues = new Map<string, Array<() => void>>();
  let waiting = 0;
  let scheduled = false;
  const grant = () => {
    scheduled = false;
    const first = queues.entries().next();
    if (first.done) return;
    const [key, resolvers] = first.value;
    queues.delete(key);
    const resolve = resolvers.shift()!;
    if (resolvers.length) queues.set(key, resolvers);
    waiting--;
    resolve();
    if (queues.size) {
      scheduled = true;
      schedule(grant);
    }
  };
  return {
    take(key) {
      return new Promise<void>((resolve) => {
        const queue = queues.get(key);
        if (queue) queue.push(resolve);
        else queues.set(key, [resolve]);
        waiting++;
        if (!scheduled) {
          scheduled = true;
          schedule(grant);
        }
      });
    },
    get waiting() {
      return waiting;
    },
  };
}
