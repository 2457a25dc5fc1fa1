import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Frame } from 'trpc-live/core';
import { Heartbeat, SocketSink, sseTracked } from 'trpc-live/node';
import { useResponseServer } from '../../helpers/responseServer';

const frame = (seq: number): Frame => {
  const message = { kind: 'invalidate', resource: 'orders', id: String(seq), action: 'updated', seq } as const;
  const payload = JSON.stringify(message);
  return {
    seq,
    epoch: 'E',
    id: `E:${seq}`,
    key: `orders:${seq}`,
    topic: 't',
    lane: 'instant',
    message,
    payload,
    bytes: payload.length,
    idempotent: true,
    publishedAt: 0,
  };
};

describe('SocketSink: a write leaves in the slice that pays for it', () => {
  const http = useResponseServer();
  const heartbeat = new Heartbeat<SocketSink>(null);

  /** The sink the test server makes of its next request's response, begun and attached. */
  const nextSink = () =>
    new Promise<{ sink: SocketSink; res: ServerResponse }>((resolve) =>
      http.pending.push((res) => {
        const sink = new SocketSink(res, { heartbeat, errorEvent: () => '' });
        sink.begin({ 'content-type': 'text/event-stream' }, ': hi\n\n', null);
        sink.attach({ dispose: () => undefined });
        resolve({ sink, res });
      }),
    );

  async function open(): Promise<{ sink: SocketSink; res: ServerResponse; client: IncomingMessage; text: () => string }> {
    const serverSide = nextSink();
    const client = await new Promise<IncomingMessage>((resolve) => request(http.url, resolve).on('error', () => undefined).end());
    let body = '';
    client.setEncoding('utf8');
    client.on('data', (chunk: string) => (body += chunk));
    const { sink, res } = await serverSide;
    // Let the preamble's own write settle.
    await new Promise((resolve) => setImmediate(resolve));
    return { sink, res, client, text: () => body };
  }

  it('hands a write to the kernel before returning instead of leaving it corked until the next tick', async () => {
    const pair = await open();
    const socket = pair.res.socket!;
    let syscalls = 0;
    const writev = socket._writev!.bind(socket);
    const write = socket._write.bind(socket);
    socket._writev = (chunks, callback) => {
      syscalls++;
      writev(chunks, callback);
    };
    socket._write = (chunk, encoding, callback) => {
      syscalls++;
      write(chunk, encoding, callback);
    };
    pair.sink.write([frame(1), frame(2)]);
    // Node's response corks the socket per write and uncorks on the next tick; the sink's
    // chunk (size line, text, CRLF) has already gone out, as one write.
    expect(syscalls).toBe(1);
    expect(socket.writableLength).toBe(0);
    expect(pair.sink.pendingBytes()).toBe(0);
    const expected = sseTracked(frame(1).payload, 'E:1') + sseTracked(frame(2).payload, 'E:2');
    await new Promise<void>((resolve) => {
      const check = () => (pair.text().endsWith(expected) ? resolve() : setTimeout(check, 5));
      check();
    });
    pair.client.destroy();
  });

  it('writes plain bytes through the response to an HTTP/1.0 client, which gets no chunked framing', async () => {
    const serverSide = nextSink();
    const { port } = new URL(http.url);
    const socket = connect(Number(port), '127.0.0.1');
    let raw = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (raw += chunk));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('GET / HTTP/1.0\r\n\r\n');
    const { sink, res } = await serverSide;
    expect(res.chunkedEncoding).toBe(false);
    sink.write([frame(1), frame(2)]);
    sink.write([frame(3)]);
    sink.close('closed');
    await closed;
    const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
    expect(body).toBe(': hi\n\n' + [1, 2, 3].map((seq) => sseTracked(frame(seq).payload, `E:${seq}`)).join('') + 'event: return\ndata: \n\n\n');
  });

  it('keeps the response framing intact when writes and the end follow each other in one tick', async () => {
    const pair = await open();
    const ended = new Promise<void>((resolve) => pair.client.on('end', resolve));
    pair.sink.write([frame(1)]);
    pair.sink.write([frame(2)]);
    pair.sink.close('closed');
    await ended;
    expect(pair.text()).toBe(': hi\n\n' + sseTracked(frame(1).payload, 'E:1') + sseTracked(frame(2).payload, 'E:2') + 'event: return\ndata: \n\n\n');
  });
});
