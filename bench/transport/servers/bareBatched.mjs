// The limit (issue 19): bare node:http that batches as our transport does.
// Each event is encoded once; every open response queues the frames published
// in this turn, and one setImmediate later gets them in ONE write (corked, so
// the chunk leaves in one syscall instead of from a nextTick per response).
// Plain `bare.mjs` writes once per event per client instead.
import { createServer } from 'node:http';
import { benchMessage, serveIpc } from './ipc.mjs';

const HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
};
/** @type {Set<{ res: import('node:http').ServerResponse, pending: string }>} */
const open = new Set();
/** Connections with frames queued since the last flush. */
let dirty = [];
let scheduled = false;

function flush() {
  scheduled = false;
  const batch = dirty;
  dirty = [];
  for (const conn of batch) {
    const text = conn.pending;
    conn.pending = '';
    if (conn.res.destroyed) continue;
    const socket = conn.res.socket;
    socket?.cork();
    conn.res.write(text);
    socket?.uncork();
  }
}

const server = createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ status: 'ok', connections: open.size }));
    return;
  }
  if (req.url?.startsWith('/sse')) {
    res.writeHead(200, HEADERS);
    res.write('event: ready\ndata: \n\n');
    const conn = { res, pending: '' };
    open.add(conn);
    res.on('close', () => open.delete(conn));
    return;
  }
  res.writeHead(404).end();
});

serveIpc({
  connections: () => open.size,
  publish(round, count) {
    for (let i = 0; i < count; i++) {
      const frame = `data: ${JSON.stringify(benchMessage(round, i))}\n\n`;
      for (const conn of open) {
        if (conn.pending === '') dirty.push(conn);
        conn.pending += frame;
      }
    }
    if (!scheduled && dirty.length) {
      scheduled = true;
      setImmediate(flush);
    }
  },
});
server.listen(Number(process.env.PORT), '127.0.0.1');
