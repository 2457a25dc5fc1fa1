// The benchmark's control channel inside a server process (IPC from the
// orchestrator): heap after GC, connection count, and publishing rounds.
// Servers run with --expose-gc; nothing here runs per connection or per event.

/** The same ~90-byte message for every server: what the app's hub sends for an invalidation (superjson envelope). */
export function benchMessage(round, i) {
  return { json: { kind: 'invalidate', resource: 'bench', id: `${round}-${i}`, action: 'changed', seq: i + 1 } };
}

/**
 * Answers the orchestrator's messages:
 * - `{ type: 'stats' }` → `{ type: 'stats', heapUsed, connections }` after a full GC
 * - `{ type: 'publish', round, count }` → `{ type: 'published', round, t0 }` (t0: absolute ms, taken just before publishing)
 */
export function serveIpc({ connections, publish }) {
  process.on('message', (message) => {
    if (message.type === 'stats') {
      for (let i = 0; i < 3; i++) globalThis.gc?.();
      const { heapUsed } = process.memoryUsage();
      process.send({ type: 'stats', heapUsed, connections: connections(), gc: typeof globalThis.gc === 'function' });
    } else if (message.type === 'publish') {
      const t0 = performance.timeOrigin + performance.now();
      publish(message.round, message.count);
      process.send({ type: 'published', round: message.round, t0 });
    }
  });
  // The orchestrator going away ends the server, whatever state it is in.
  process.on('disconnect', () => process.exit(0));
}
