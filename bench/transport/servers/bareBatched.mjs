// The limit (issue 19): bare node:http that batches as our transport does.
// Each event is encoded once; every open response queues the frames published
// in this turn, and one setImmediate later gets them in ONE write (corked, so
// the chunk leaves in one syscall instead of from a nextTick per response).
// Plain `bare.mjs` writes once per event per client instead.
//
// BARE_WIRE=trpc sends each event in tRPC's SSE wire format, as our
// transport must (packages/trpc-live/src/node/sseFormat.ts: the data line,
// an `id:` line with the cursor `<epoch>:<seq>`, a blank line and a spare
// newline): the same bytes on the wire for the same event, ~128 instead of
// ~103 per frame. The difference between the two bare variants is what the
// wire format costs both ends; the rest of our gap is our own.
import { createServer } from 'node:http';
import { benchMessage, serveIpc } from './ipc.mjs';

const TRPC_WIRE = process.env.BARE_WIRE === 'trpc';
/** An epoch as long as the hub's (`newEpoch`: base-36 time + 6 random base-36 digits). */
const EPOCH = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 6).toString(36).padStart(6, '0')}`;
/** The hub's seq: one per published event, over the server's life. */
let seq = 0;

/** One event's SSE frame, encoded once for every connection. */
function frameOf(round, i) {
  const message = benchMessage(round, i);
  if (!TRPC_WIRE) return `data: ${JSON.stringify(message)}\n\n`;
  // The hub's message carries the hub's seq, as its cursor does.
  const s = ++seq;
  return `data: ${JSON.stringify({ json: { ...message.json, seq: s } })}\nid: ${EPOCH}:${s}\n\n\n`;
}

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
      const frame = frameOf(round, i);
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
