// The benchmark's client harness: many raw HTTP SSE clients in one child
// process (so their CPU does not steal the server's), each parsing the SSE it
// receives and counting the events of a round. Driven by the orchestrator
// over IPC; every step is bounded by a timeout on the orchestrator's side.
import { request } from 'node:http';

const now = () => performance.timeOrigin + performance.now();

/** @type {Set<Conn>} */
const conns = new Set();
/** Open order, so `close` drops the newest first. */
const order = [];
/** @type {null | { id: string, marker: string, expect: number, done: number, frames: number, firstFrameAt: number, firstAt: number, lastAt: number }} */
let round = null;

class Conn {
  constructor() {
    this.rest = '';
    this.event = '';
    this.data = '';
    this.hasData = false;
    this.ready = false;
    this.count = 0;
    this.req = null;
  }

  /** SSE parsing per the spec's line rules (LF only, which every server here writes). */
  feed(chunk, readyMarker, onReady) {
    const text = this.rest + chunk;
    let start = 0;
    let nl;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      const line = text.slice(start, nl);
      start = nl + 1;
      if (line === '') {
        this.dispatch(readyMarker, onReady);
        continue;
      }
      const colon = line.indexOf(':');
      if (colon === 0) continue; // comment
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') {
        this.data = this.hasData ? `${this.data}\n${value}` : value;
        this.hasData = true;
      } else if (field === 'event') this.event = value;
    }
    this.rest = text.slice(start);
  }

  dispatch(readyMarker, onReady) {
    if (!this.hasData) {
      this.event = '';
      return;
    }
    const type = this.event || 'message';
    if (!this.ready && (type === readyMarker || this.data.includes(readyMarker))) {
      this.ready = true;
      onReady();
    } else if (round && type === 'message' && this.data.includes(round.marker)) {
      // When the round's first frame reached any client: a burst's bytes start to flow then.
      if (round.frames++ === 0) round.firstFrameAt = now();
      if (++this.count === round.expect) {
        const at = now();
        if (round.done === 0) round.firstAt = at;
        round.lastAt = at;
        if (++round.done === conns.size) finishRound();
      }
    }
    this.event = '';
    this.data = '';
    this.hasData = false;
  }
}

function finishRound() {
  if (!round) return;
  const r = round;
  round = null;
  process.send({ type: 'round', id: r.id, done: r.done, of: conns.size, frames: r.frames, firstFrameAt: r.firstFrameAt, firstAt: r.firstAt, lastAt: r.lastAt });
}

function openOne(url, headers, readyMarker) {
  return new Promise((resolve) => {
    const conn = new Conn();
    let settled = false;
    const settle = (ok) => {
      if (settled) return;
      settled = true;
      resolve(ok);
    };
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        settle(false);
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk) =>
        conn.feed(chunk, readyMarker, () => {
          conns.add(conn);
          order.push(conn);
          settle(true);
        }),
      );
      res.on('error', () => undefined);
      res.on('close', () => {
        conns.delete(conn);
        settle(false);
      });
    });
    conn.req = req;
    req.on('error', () => settle(false));
    req.end();
  });
}

process.on('message', async (message) => {
  if (message.type === 'open') {
    const { url, headers, readyMarker, count, concurrency } = message;
    let ok = 0;
    let failed = 0;
    for (let started = 0; started < count; ) {
      const batch = Math.min(concurrency, count - started);
      const results = await Promise.all(Array.from({ length: batch }, () => openOne(url, headers, readyMarker)));
      for (const r of results) {
        if (r) ok++;
        else failed++;
      }
      started += batch;
    }
    process.send({ type: 'opened', ok, failed, open: conns.size });
  } else if (message.type === 'arm') {
    for (const conn of conns) conn.count = 0;
    round = { id: message.id, marker: message.marker, expect: message.expect, done: 0, frames: 0, firstFrameAt: 0, firstAt: 0, lastAt: 0 };
    process.send({ type: 'armed', id: message.id });
  } else if (message.type === 'report') {
    // The orchestrator gave up waiting: report what arrived so far.
    const r = round;
    round = null;
    process.send({
      type: 'round',
      id: message.id,
      done: r?.done ?? 0,
      of: conns.size,
      frames: r?.frames ?? 0,
      firstFrameAt: r?.firstFrameAt ?? 0,
      firstAt: r?.firstAt ?? 0,
      lastAt: r?.lastAt ?? 0,
      timedOut: true,
    });
  } else if (message.type === 'close') {
    let n = 0;
    while (n < message.count && order.length) {
      const conn = order.pop();
      if (!conns.has(conn)) continue;
      conns.delete(conn);
      conn.req.destroy();
      n++;
    }
    process.send({ type: 'closed', closed: n, open: conns.size });
  }
});
process.on('disconnect', () => process.exit(0));
