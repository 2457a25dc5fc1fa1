import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import type { Frame, LiveMessage } from 'trpc-live/core';
import { Heartbeat, SocketSink, SSE_PING, SSE_RETURN, sseTracked } from 'trpc-live/node';
import { useResponseServer } from '../../helpers/responseServer';

function frame(message: LiveMessage, id: string | null, payload = JSON.stringify(message)): Frame {
  return {
    seq: id ? Number(id.split(':')[1]) : 0,
    epoch: 'E',
    id,
    key: id ?? 'control',
    topic: 't',
    lane: 'instant',
    message,
    payload,
    bytes: payload.length,
    idempotent: id !== null,
    publishedAt: 0,
  };
}
const data = (seq: number, payload?: string) =>
  frame({ kind: 'invalidate', resource: 'orders', id: String(seq), action: 'updated', seq }, `E:${seq}`, payload);
const reconnect = (afterMs: number) => frame({ kind: 'reconnect', afterMs, reason: 'drain' }, null);

interface Pair {
  sink: SocketSink;
  res: ServerResponse;
  client: IncomingMessage;
  /** Everything the client received so far. */
  text(): string;
  ended: Promise<void>;
  destroy(): void;
}

const waitForAbort = (signal: AbortSignal) =>
  signal.aborted ? Promise.resolve() : new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));

describe('SocketSink over a real socket', () => {
  const http = useResponseServer();
  const heartbeat = new Heartbeat<SocketSink>(null);

  /** Opens a stream; the sink is begun and attached to `connection`. */
  function open(connection = { dispose: vi.fn() }): Promise<Pair> {
    const serverSide = new Promise<{ sink: SocketSink; res: ServerResponse }>((resolve) =>
      http.pending.push((res) => {
        const sink = new SocketSink(res, { heartbeat, errorEvent: () => 'event: serialized-error\ndata: {}\n\n\n' });
        sink.begin({ 'content-type': 'text/event-stream' }, ': hi\n\n', null);
        sink.attach(connection);
        resolve({ sink, res });
      }),
    );
    return new Promise((resolve) => {
      const req = request(http.url, async (client) => {
        let body = '';
        client.setEncoding('utf8');
        client.on('data', (chunk: string) => (body += chunk));
        client.on('error', () => undefined);
        const ended = new Promise<void>((r) => client.on('end', r));
        const { sink, res } = await serverSide;
        resolve({ sink, res, client, text: () => body, ended, destroy: () => req.destroy() });
      });
      req.on('error', () => undefined);
      req.end();
    });
  }

  it('writes what a flush hands it as one chunk in one socket write, and encodes a shared frame once for every recipient', async () => {
    const a = await open();
    const b = await open();
    const writesA = vi.spyOn(a.res.socket!, 'write');
    const writesB = vi.spyOn(b.res.socket!, 'write');
    const shared = [data(1), data(2), data(3)];

    a.sink.write(shared);
    expect(writesA).toHaveBeenCalledTimes(1);
    const text = shared.map((f) => sseTracked(f.payload, f.id!)).join('');
    // One HTTP chunk: the size of the whole write, its text, CRLF.
    expect(Buffer.from(writesA.mock.calls[0]![0] as Uint8Array).toString()).toBe(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
    expect(Buffer.from(shared[0]!.wire as Uint8Array).toString()).toContain(sseTracked(shared[0]!.payload, 'E:1'));

    // The next recipient of the very same frames gets the very same bytes: not joined again.
    b.sink.write(shared);
    expect(writesB).toHaveBeenCalledTimes(1);
    expect(writesB.mock.calls[0]![0]).toBe(writesA.mock.calls[0]![0]);

    // Other frames are joined from each frame's cached encoding instead of encoding again.
    const cached = 'data: "cached"\nid: E:2\n\n\n';
    shared[1]!.wire = Buffer.from(`${cached.length.toString(16)}\r\n${cached}\r\n`);
    b.sink.write([shared[1]!, shared[2]!]);
    expect(writesB).toHaveBeenCalledTimes(2);
    expect(Buffer.from(writesB.mock.calls[1]![0] as Uint8Array).toString()).toContain(cached);
    expect(Buffer.from(writesA.mock.calls[0]![0] as Uint8Array).toString()).not.toContain('cached');
    a.destroy();
    b.destroy();
  });

  it('listens for its peer leaving with one function every sink shares, and still frees the connection', async () => {
    const disposed = { dispose: vi.fn() };
    const a = await open(disposed);
    const b = await open();
    const shared = (event: 'close' | 'error') => a.res.rawListeners(event).filter((fn) => b.res.rawListeners(event).includes(fn));
    expect(shared('close')).toHaveLength(1);
    expect(shared('error')).toHaveLength(1);
    const aborted = new Promise<void>((resolve) => a.sink.signal.addEventListener('abort', () => resolve()));
    a.destroy();
    await aborted;
    expect(disposed.dispose).toHaveBeenCalledTimes(1);
    expect(a.sink.done).toBe(true);
    b.destroy();
  });

  it('hands every recipient of a lone shared frame the same pre-framed bytes, straight to its socket', async () => {
    const a = await open();
    const b = await open();
    const writesA = vi.spyOn(a.res.socket!, 'write');
    const writesB = vi.spyOn(b.res.socket!, 'write');
    const viaResponse = vi.spyOn(a.res, 'write');
    const shared = data(7);
    a.sink.write([shared]);
    b.sink.write([shared]);
    expect(writesA).toHaveBeenCalledTimes(1);
    expect(writesB).toHaveBeenCalledTimes(1);
    // Not a copy per recipient: the frame's one chunk.
    expect(writesA.mock.calls[0]![0]).toBe(shared.wire);
    expect(writesB.mock.calls[0]![0]).toBe(shared.wire);
    expect(viaResponse).not.toHaveBeenCalled();
    const expected = sseTracked(shared.payload, 'E:7');
    await new Promise<void>((resolve) => {
      const check = () => (a.text().endsWith(expected) && b.text().endsWith(expected) ? resolve() : setTimeout(check, 5));
      check();
    });
    a.destroy();
    b.destroy();
  });

  it('holds the preamble and what the hub writes while connecting, then sends them in one write', async () => {
    const res = await new Promise<ServerResponse>((resolve) => {
      http.pending.push(resolve);
      request(http.url, () => undefined).on('error', () => undefined).end();
    });
    const sink = new SocketSink(res, { heartbeat, errorEvent: () => '' });
    const writes = vi.spyOn(res.socket!, 'write');
    sink.begin({}, 'event: connected\ndata: {}\n\n\n', null);
    sink.write([frame({ kind: 'hello', connectionId: 'c', epoch: 'E' }, null)]);
    sink.write([data(1)]);
    expect(writes).not.toHaveBeenCalled();
    expect(sink.pendingBytes()).toBeGreaterThan(0);
    sink.attach({ dispose: () => undefined });
    // One socket write: the response head, then the held text as one chunk.
    expect(writes).toHaveBeenCalledTimes(1);
    const [head, body] = String(writes.mock.calls[0]![0]).split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head).toMatch(/\r\ntransfer-encoding: chunked$/i);
    expect(body).toMatch(/^[0-9a-f]+\r\nevent: connected\n.*"hello".*\ndata: .*\nid: E:1\n\n\n\r\n$/s);
    res.destroy();
  });

  it('reports the bytes the peer has not taken, and calls onDrain once it took them', async () => {
    const pair = await open();
    pair.client.pause();
    const big = 'x'.repeat(64 * 1024);
    // Fill the kernel buffers until the socket itself holds data (bounded: at most 64 MiB).
    for (let i = 0; i < 1024 && pair.sink.pendingBytes() < 256 * 1024; i++) pair.sink.write([data(i + 1, JSON.stringify(big))]);
    expect(pair.sink.pendingBytes()).toBeGreaterThanOrEqual(256 * 1024);

    const drained = new Promise<number>((resolve) => pair.sink.onDrain(() => resolve(pair.sink.pendingBytes())));
    pair.client.resume();
    expect(await drained).toBe(0);
    pair.destroy();
  });

  it('calls onDrain for a small backlog that never crossed the high-water mark', async () => {
    const pair = await open();
    pair.sink.write([data(1)]);
    // Whether or not the bytes already left, the callback comes (a plain 'drain' listener would wait forever).
    await new Promise<void>((resolve) => pair.sink.onDrain(resolve));
    expect(pair.sink.pendingBytes()).toBe(0);
    pair.destroy();
  });

  it('calls onDrain asked for while connecting once the held text has been sent', async () => {
    const res = await new Promise<ServerResponse>((resolve) => {
      http.pending.push(resolve);
      request(http.url, (client) => client.resume()).on('error', () => undefined).end();
    });
    const sink = new SocketSink(res, { heartbeat, errorEvent: () => '' });
    sink.begin({}, 'event: connected\ndata: {}\n\n\n', null);
    sink.write([data(1)]);
    let drained = false;
    const done = new Promise<void>((resolve) =>
      sink.onDrain(() => {
        drained = true;
        resolve();
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    // Nothing was sent yet: the drain cannot have happened.
    expect(drained).toBe(false);
    sink.attach({ dispose: () => undefined });
    await done;
    expect(sink.pendingBytes()).toBe(0);
    res.destroy();
  });

  it('disposes the hub connection and aborts the request signal as soon as the socket closes', async () => {
    let onDisposed!: () => void;
    const disposed = new Promise<void>((resolve) => (onDisposed = resolve));
    const dispose = vi.fn(() => onDisposed());
    const pair = await open({ dispose });
    expect(pair.sink.signal.aborted).toBe(false);
    pair.destroy();
    await disposed;
    expect(dispose).toHaveBeenCalledTimes(1);
    expect(pair.sink.signal.aborted).toBe(true);
    expect(pair.sink.done).toBe(true);
  });

  it('aborts every stream\'s signal with one ready-made AbortError when its peer leaves', async () => {
    // A fresh DOMException per stream (abort() without a reason) cost each reconnect of a storm its stack.
    const pairs = [await open(), await open()];
    for (const pair of pairs) pair.destroy();
    await Promise.all(pairs.map((pair) => waitForAbort(pair.sink.signal)));
    const [first, second] = pairs.map((pair) => pair.sink.signal.reason as DOMException);
    expect(first).toBeInstanceOf(DOMException);
    expect(first!.name).toBe('AbortError');
    expect(second).toBe(first);
  });

  it('pings only after a whole tick without writes', async () => {
    const pair = await open();
    const writes = vi.spyOn(pair.res.socket!, 'write');
    pair.sink.beat(1); // attach wrote the preamble during this tick
    expect(writes).not.toHaveBeenCalled();
    pair.sink.beat(2);
    expect(writes).toHaveBeenCalledTimes(1);
    expect(Buffer.from(writes.mock.calls[0]![0] as Uint8Array).toString()).toBe(`${SSE_PING.length.toString(16)}\r\n${SSE_PING}\r\n`);
    pair.sink.write([data(1)]);
    pair.sink.beat(3);
    expect(writes).toHaveBeenCalledTimes(2); // the data, no ping
    pair.destroy();
  });

  it('ends a drained stream with the retry delay of its reconnect frame and no return event', async () => {
    const pair = await open();
    pair.sink.write([data(1), reconnect(1234)]);
    pair.sink.close('drain');
    await pair.ended;
    expect(pair.text()).toMatch(/retry: 1234\n\n$/);
    expect(pair.text()).not.toContain('event: return');
    // The reconnect frame after a tracked one keeps the cursor for the reconnect (restore-id).
    expect(pair.text()).toContain('event: restore-id\ndata: \nid: E:1\n');
  });

  it('ends an unauthorized stream with a serialized-error and a closed one with return', async () => {
    const a = await open();
    a.sink.close('unauthorized');
    await a.ended;
    expect(a.text()).toMatch(/event: serialized-error\n.*\n\n\n$/);
    const b = await open();
    b.sink.close('closed');
    await b.ended;
    expect(b.text().endsWith(SSE_RETURN)).toBe(true);
  });

  it('sends the head and the first chunk together in bytes any HTTP/1.1 client reads, then frames later writes and the end alike', async () => {
    // Oracle: the raw bytes on a plain TCP socket, decoded here by hand (status line, headers, chunked body per
    // RFC 9112 §7.1), not by node:http.
    const raw = await rawExchange((res) => {
      const sink = new SocketSink(res, { heartbeat, errorEvent: () => '' });
      sink.begin({ 'content-type': 'text/event-stream', 'x-note': 'plain' }, ': hi\n\n', null);
      sink.write([frame({ kind: 'hello', connectionId: 'c', epoch: 'E' }, null), data(1, '"é1"')]);
      sink.attach({ dispose: () => undefined });
      sink.write([data(2, '"two"')]);
      sink.close('closed');
    });
    const { status, headers, body, complete } = decodeChunked(raw);
    expect(status).toBe('HTTP/1.1 200 OK');
    expect(headers.get('x-note')).toBe('plain');
    expect(headers.get('transfer-encoding')).toBe('chunked');
    expect(complete).toBe(true);
    expect(body.startsWith(': hi\n\n')).toBe(true);
    expect(body).toContain('"hello"');
    expect(body).toContain(`${sseTracked('"é1"', 'E:1')}${sseTracked('"two"', 'E:2')}`);
    expect(body.endsWith(SSE_RETURN)).toBe(true);
  });

  it('keeps node:http sending the head when it is not ASCII (latin1 bytes), with the body still UTF-8', async () => {
    const raw = await rawExchange((res) => {
      const sink = new SocketSink(res, { heartbeat, errorEvent: () => '' });
      sink.begin({ 'content-type': 'text/event-stream', 'x-note': 'caf\u00e9' }, ': hi\n\n', null);
      sink.write([data(1, '"é1"')]);
      sink.attach({ dispose: () => undefined });
      sink.close('closed');
    });
    // The header value's é is one latin1 byte (0xe9), as node:http sends it; the body's é is UTF-8 (0xc3 0xa9).
    const headEnd = raw.indexOf('\r\n\r\n');
    expect(raw.subarray(0, headEnd).includes(Buffer.from('x-note: caf\xe9', 'latin1'))).toBe(true);
    const { body, complete } = decodeChunked(raw);
    expect(complete).toBe(true);
    expect(body).toContain(sseTracked('"é1"', 'E:1'));
  });

  it('ignores writes and closes after the stream ended, without throwing', async () => {
    const pair = await open();
    pair.sink.close('closed');
    expect(() => pair.sink.write([data(9)])).not.toThrow();
    expect(() => pair.sink.close('drain')).not.toThrow();
    await pair.ended;
    expect(pair.text()).not.toContain('id: E:9');
  });
});

/** Sends one GET over a plain TCP socket, lets `serve` answer it, and returns every byte received until the server ends. */
function rawExchange(serve: (res: ServerResponse) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const server = createServer((_req, res) => serve(res));
    server.listen(0, '127.0.0.1', () => {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1', () =>
        socket.write('GET /stream HTTP/1.1\r\nhost: test\r\naccept: text/event-stream\r\n\r\n'),
      );
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        // The last chunk of a chunked body: the response is complete.
        if (Buffer.concat(chunks).includes('\r\n0\r\n\r\n')) socket.end();
      });
      socket.on('error', reject);
      socket.on('close', () => {
        server.close();
        resolve(Buffer.concat(chunks));
      });
    });
  });
}

/** An HTTP/1.1 response's status line, headers and chunked body (UTF-8), decoded by hand. */
function decodeChunked(raw: Buffer): { status: string; headers: Map<string, string>; body: string; complete: boolean } {
  const headEnd = raw.indexOf('\r\n\r\n');
  const [status, ...lines] = raw.subarray(0, headEnd).toString('latin1').split('\r\n');
  const headers = new Map(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  const parts: Buffer[] = [];
  let at = headEnd + 4;
  let complete = false;
  while (at < raw.length) {
    const lineEnd = raw.indexOf('\r\n', at);
    const size = parseInt(raw.subarray(at, lineEnd).toString('latin1'), 16);
    if (size === 0) {
      complete = true;
      break;
    }
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    expect(raw.subarray(lineEnd + 2 + size, lineEnd + 4 + size).toString('latin1')).toBe('\r\n');
    at = lineEnd + 4 + size;
  }
  return { status: status!, headers, body: Buffer.concat(parts).toString('utf8'), complete };
}
