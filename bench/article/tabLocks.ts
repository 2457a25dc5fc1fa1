import type { LockManagerLike } from 'trpc-live/react';

/**
 * The part of the Web Locks API the shared live stream uses, for tabs
 * simulated in one Node process (Node 20 has no `navigator.locks`): one
 * exclusive holder per name, waiters granted in request order, a waiter
 * leaves on abort. One instance plays one browser.
 */
export function createTabLocks(): LockManagerLike {
  const queues = new Map<string, Array<() => void>>();
  const held = new Set<string>();

  const grantNext = (name: string) => {
    const queue = queues.get(name);
    const next = queue?.shift();
    if (next) next();
    else held.delete(name);
  };

  return {
    request(name, options, callback) {
      return new Promise((resolve, reject) => {
        const run = () => {
          held.add(name);
          Promise.resolve()
            .then(() => callback({ name }))
            .then(resolve, reject)
            .finally(() => grantNext(name));
        };
        if (!held.has(name)) {
          run();
          return;
        }
        const queue = queues.get(name) ?? [];
        queues.set(name, queue);
        const waiter = () => {
          options.signal?.removeEventListener('abort', onAbort);
          run();
        };
        const onAbort = () => {
          const i = queue.indexOf(waiter);
          if (i !== -1) queue.splice(i, 1);
          reject(new DOMException('The lock request was aborted', 'AbortError'));
        };
        options.signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(waiter);
      });
    },
  };
}
