/**
 * Golden test: the fast transport's bytes against tRPC 11.22's own SSE
 * encoder (`sseStreamProducer`, the one the stock route uses) for the same
 * sequence of events, with the app's router config (superjson, sse options,
 * error formatter).
 */
import { createServer, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TRPCError } from '@trpc/server';
import {
  getErrorShape,
  getTRPCErrorFromUnknown,
  sseStreamProducer,
  tracked,
} from '@trpc/server/unstable-core-do-not-import';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Frame, LiveControlMessage, LiveDataMessage, LiveMessage } from 'trpc-live/core';
import { createStreamErrors, Heartbeat, SocketSink, sseConnected } from 'trpc-live/node';
import { appendRetryHint, serverClosedStream } from 'trpc-live/trpc';
import { serializeMessage } from '../../../src/server/appHub';
import { appRouter } from '../../../src/server/routers/_app';

const config = appRouter._def._config;
const PING_MS = 1000;

/** One step of a script both encoders play. */
type Step =
  | { type: 'control'; message: LiveControlMessage }
  | { type: 'data'; id: string; message: LiveDataMessage }
  | { type: 'ping' }
  | { type: 'end'; how: 'unauthorized' | 'closed' | 'drain' };

/** The bytes tRPC's producer writes for `script` (pings forced with fake timers, never by chance). */
async function trpcBytes(script: Step[], lastEventId: string | null): Promise<string> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  let text = '';
  const pings = () => text.split('event: ping\n').length - 1;
  async function* data(): AsyncGenerator<unknown> {
    for (const step of script) {
      if (step.type === 'control') yield step.message;
      else if (step.type === 'data') yield tracked(step.id, step.message);
      else if (step.type === 'ping') {
        // The producer arms its ping timer only after asking us for the next value: let it, then fire it.
        const before = pings();
        for (;;) {
          await new Promise((resolve) => setImmediate(resolve));
          if (pings() > before) break;
          vi.advanceTimersByTime(PING_MS);
        }
      } else if (step.how === 'unauthorized') {
        // What the stock route's LiveStream throws when the hub closes a stream as unauthorized.
        throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Session expired' });
      } else if (step.how === 'drain') {
        // What it throws when the hub closes a stream for a drain or a rotation.
        throw serverClosedStream();
      } else return;
    }
  }
  const stream = sseStreamProducer({
    ...config.sse,
    ping: { enabled: true, intervalMs: PING_MS },
    lastEventId,
    data: data(),
    serialize: (value) => config.transformer.output.serialize(value),
    formatError: ({ error }) =>
      getErrorShape({
        config,
        error: getTRPCErrorFromUnknown(error),
        type: 'subscription',
        path: 'live.stream',
        input: undefined,
        ctx: undefined,
      }),
  });
  const decoder = new TextDecoder();
  // The stock route's response body: the producer's stream with the drain's retry hint (src/server/trpcHandler.ts).
  const reader = appendRetryHint(stream, (value) => config.transformer.output.deserialize(value)).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    vi.useRealTimers();
  }
  return text;
}

/** A frame as the hub builds it (payload serialized once with the app's serializer). */
function frame(message: LiveMessage, id: string | null): Frame {
  const payload = serializeMessage(message);
  const seq = id ? Number(id.split(':')[1]) : 0;
  return {
    seq,
    epoch: 'E',
    id,
    key: id ? `k${seq}` : 'control',
    topic: 'orders',
    lane: 'instant',
    message,
    payload,
    bytes: payload.length,
    idempotent: id !== null,
    publishedAt: 0,
  };
}

describe('the fast transport speaks tRPC 11.22 SSE byte for byte', () => {
  let server: Server;
  let url: string;
  let onResponse: (res: ServerResponse) => void = () => undefined;
  const errors = createStreamErrors(appRouter, 'live.stream');

  beforeAll(async () => {
    server = createServer((_req, res) => onResponse(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  afterEach(() => vi.useRealTimers());

  /** The bytes a SocketSink writes over a real socket for `script`. */
  function ourBytes(script: Step[], lastEventId: string | null): Promise<string> {
    onResponse = (res) => {
      const sink = new SocketSink(res, { heartbeat: new Heartbeat<SocketSink>(null), errorEvent: (error) => errors.event(error) });
      sink.begin({}, sseConnected(config.sse?.client), lastEventId);
      sink.attach({ dispose: () => undefined });
      for (const step of script) {
        if (step.type === 'control') sink.write([frame(step.message, null)]);
        else if (step.type === 'data') sink.write([frame(step.message, step.id)]);
        else if (step.type === 'ping') {
          sink.beat(1); // a tick after a write: nothing
          sink.beat(2); // a whole tick without writes: ping
        } else sink.close(step.how);
      }
    };
    return new Promise((resolve, reject) => {
      request(url, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(text));
        res.on('error', reject);
      })
        .on('error', reject)
        .end();
    });
  }

  const hello: LiveControlMessage = { kind: 'hello', connectionId: 'conn_1', epoch: 'E' };
  const created: LiveDataMessage = { kind: 'invalidate', resource: 'orders', id: 'ord_1', action: 'created', seq: 1 };
  const updated: LiveDataMessage = {
    kind: 'invalidate',
    resource: 'orders',
    id: 'ord_1',
    action: 'updated',
    hint: { at: 'now', n: 2, nested: { ok: true } },
    seq: 2,
  };
  const reconnect: LiveControlMessage = { kind: 'reconnect', afterMs: 1234, reason: 'rotate' };

  it('writes connected, data with ids, restore-id after tracked frames, ping and serialized-error like tRPC', async () => {
    const script: Step[] = [
      { type: 'control', message: hello },
      { type: 'data', id: 'E:1', message: created },
      { type: 'data', id: 'E:2', message: updated },
      { type: 'control', message: reconnect },
      { type: 'ping' },
      { type: 'end', how: 'unauthorized' },
    ];
    const expected = await trpcBytes(script, null);
    // The script really exercised every event kind.
    for (const part of ['event: connected', 'id: E:1', 'event: restore-id', 'event: ping', 'event: serialized-error']) {
      expect(expected).toContain(part);
    }
    expect(await ourBytes(script, null)).toBe(expected);
  });

  it('restores the id the client reconnected with around an untracked hello, and ends with return like tRPC', async () => {
    const script: Step[] = [
      { type: 'control', message: hello },
      { type: 'data', id: 'E:8', message: { ...created, seq: 8 } },
      { type: 'end', how: 'closed' },
    ];
    const expected = await trpcBytes(script, 'E:7');
    expect(expected).toContain('event: restore-id\ndata: \nid: E:7\n');
    expect(expected).toContain('event: return');
    expect(await ourBytes(script, 'E:7')).toBe(expected);
  });

  it('ends a drained stream with the reconnect hint and its retry delay, no return and no error event, like the stock route', async () => {
    const drain: LiveControlMessage = { kind: 'reconnect', afterMs: 731, reason: 'drain' };
    for (const [script, lastEventId] of [
      // After tracked frames (the hint clears and restores the id) and on a fresh stream with only the hello.
      [[{ type: 'control', message: hello }, { type: 'data', id: 'E:1', message: created }, { type: 'control', message: drain }, { type: 'end', how: 'drain' }], null],
      [[{ type: 'control', message: hello }, { type: 'control', message: drain }, { type: 'end', how: 'drain' }], 'E:7'],
    ] as Array<[Step[], string | null]>) {
      const expected = await trpcBytes(script, lastEventId);
      expect(expected).toMatch(/"kind":"reconnect","afterMs":731,"reason":"drain"\}\}\n(id: \n\n\nevent: restore-id\ndata: \nid: E:\d\n)?\n\nretry: 731\n\n$/);
      expect(expected).not.toContain('event: return');
      expect(expected).not.toContain('serialized-error');
      expect(await ourBytes(script, lastEventId)).toBe(expected);
    }
  });
});
