// Stand-ins for the browser APIs a tab uses to share the live stream (Node has no navigator.locks, no document),
// written from the specifications, not from the code under test.
import type { ChannelLike, LockManagerLike, PageLike } from 'trpc-live/react';

/**
 * Web Locks as browsers implement them for one origin: exclusive, FIFO, a
 * waiting request can be aborted, a granted lock is held until the
 * callback's promise settles. (Node has no `navigator.locks`.)
 */
export function createLocks(): LockManagerLike & { holder(name: string): number } {
  const queues = new Map<string, Array<{ run: () => void }>>();
  const held = new Map<string, number>();
  let nextId = 0;
  const grant = (name: string) => {
    if (held.has(name)) return;
    const next = queues.get(name)?.shift();
    next?.run();
  };
  return {
    holder: (name) => held.get(name) ?? -1,
    request(name, options, callback) {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        const entry = {
          run: () => {
            held.set(name, id);
            options.signal?.removeEventListener('abort', onAbort);
            void callback({ name })
              .then(resolve, reject)
              .finally(() => {
                held.delete(name);
                grant(name);
              });
          },
        };
        const onAbort = () => {
          const queue = queues.get(name) ?? [];
          const i = queue.indexOf(entry);
          if (i >= 0) queue.splice(i, 1);
          reject(new DOMException('aborted', 'AbortError'));
        };
        options.signal?.addEventListener('abort', onAbort, { once: true });
        queues.set(name, [...(queues.get(name) ?? []), entry]);
        queueMicrotask(() => grant(name));
      });
    },
  };
}

/** A document (or window) whose visibility a test flips, firing `visibilitychange` like a browser; `fire` sends any other event. */
export function createPage(visibilityState: 'visible' | 'hidden' = 'visible') {
  const listeners = new Map<string, Set<() => void>>();
  const page = {
    visibilityState: visibilityState as string,
    addEventListener: (type: string, fn: () => void) => void listeners.set(type, (listeners.get(type) ?? new Set()).add(fn)),
    removeEventListener: (type: string, fn: () => void) => void listeners.get(type)?.delete(fn),
    set(state: 'visible' | 'hidden') {
      page.visibilityState = state;
      page.fire('visibilitychange');
    },
    fire(type: string) {
      for (const fn of listeners.get(type) ?? []) fn();
    },
  };
  return page satisfies PageLike;
}


/**
 * One tab's end of a BroadcastChannel, driven by the test: `sent` holds what
 * the tab posted, `deliver` hands it another tab's message. Like a browser's,
 * posting on a closed channel throws (InvalidStateError).
 */
export function createChannel() {
  const channel = {
    sent: [] as Array<Record<string, unknown>>,
    closed: false,
    onmessage: null as ChannelLike['onmessage'],
    postMessage(message: unknown) {
      if (channel.closed) throw new DOMException('BroadcastChannel is closed', 'InvalidStateError');
      channel.sent.push(structuredClone(message) as Record<string, unknown>);
    },
    close() {
      channel.closed = true;
    },
    /** Another tab's message, as the channel's event loop delivers it. */
    deliver(data: unknown) {
      if (!channel.closed) channel.onmessage?.({ data });
    },
  };
  return channel satisfies ChannelLike;
}
