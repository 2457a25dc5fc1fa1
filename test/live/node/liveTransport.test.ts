import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { initTRPC } from '@trpc/server';
import superjson from 'superjson';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHub, type Hub } from 'trpc-live/core';
import { createLiveTransport, SocketSink, type LiveTransport, type LiveTransportOptions } from 'trpc-live/node';
import { createLive, liveStreamInput } from 'trpc-live/trpc';
import { trackTimers } from '../../helpers/liveTimers';
import { waitFor } from '../../helpers/wait';

type Ctx = { user: string | null };
type SseOptions = NonNullable<Parameters<ReturnType<typeof initTRPC.context<Ctx>>['create']>[0]>['sse'];

/** A small app of its own: one live procedure guarded by a user check, on a fresh hub. */
function miniApp(sse: SseOptions, hubOptions: Parameters<typeof createHub>[0] = {}) {
  const hub = createHub({ serialize: (m) => JSON.stringify(superjson.serialize(m)), ...hubOptions });
  const t = initTRPC.context<Ctx>().create({ transformer: superjson, sse });
  const live = createLive<Ctx>({ hub, scope: (ctx) => (ctx.user ? 'acme' : null) });
  const router = t.router({
    live: t.router({
      stream: t.procedure.input(liveStreamInput.optional()).subscription(({ ctx, input, signal }) => live.stream(ctx, input, signal)),
    }),
    ping: t.procedure.query(() => 'pong'),
  });
  return { hub, router };
}

type MiniRouter = ReturnType<typeof miniApp>['router'];

interface Running {
  url: string;
  transport: LiveTransport;
  hub: Hub;
  /** Requests the transport declined (would go to the stock route). */
  declined: IncomingMessage[];
  close(): Promise<void>;
}

const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.close();
});

async function serve(
  sse: SseOptions,
  options: Partial<LiveTransportOptions<MiniRouter>> = {},
  hubOptions?: Parameters<typeof createHub>[0],
): Promise<Running> {
  const { hub, router } = miniApp(sse, hubOptions);
  const transport = createLiveTransport({
    router,
    createContext: ({ headers }) => ({ user: headers.get('x-user') }),
    ...options,
  });
  const declined: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    if (transport.handle(req, res)) return;
    declined.push(req);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const run: Running = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    transport,
    hub,
    declined,
    async close() {
      transport.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await hub.close();
    },
  };
  running.push(run);
  return run;
}

interface Stream {
  res: IncomingMessage;
  text(): string;
  until(part: string): Promise<void>;
  ended: Promise<void>;
  close(): void;
}

function open(url: string, headers: Record<string, string> = { 'x-user': 'u1' }, method = 'GET'): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let body = '';
      const waiters: Array<() => void> = [];
      res.setEncoding('utf8');
      const ended = new Promise<void>((r) => res.on('end', r));
      res.on('data', (chunk: string) => {
        body += chunk;
        for (const wake of waiters.splice(0)) wake();
      });
      res.on('error', () => undefined);
      resolve({
        res,
        text: () => body,
        ended,
        until: (part) =>
          new Promise((ok) => {
            const check = () => (body.includes(part) ? ok() : waiters.push(check));
            check();
          }),
        close: () => req.destroy(),
      });
    });
    req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
    req.end();
  });
}

const SSE = { ping: { enabled: true, intervalMs: 15_000 }, client: { reconnectAfterInactivityMs: 40_000 } };

describe('createLiveTransport', () => {
  it('takes only a plain GET of the live path and declines everything else', async () => {
    const app = await serve(SSE);
    const path = `${app.url}/api/trpc/live.stream`;
    await (await open(`${app.url}/api/trpc/ping`)).ended;
    await (await open(`${path}?batch=1&input=%7B%7D`)).ended;
    await (await open(path, { 'x-user': 'u1', 'content-type': 'text/plain' })).ended;
    await (await open(path, { 'x-user': 'u1', 'content-type': 'application/json' }, 'POST')).ended;
    await (await open(`${app.url}/api/trpc/live.streamer`)).ended;
    expect(app.declined.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /api/trpc/ping',
      'GET /api/trpc/live.stream?batch=1&input=%7B%7D',
      'GET /api/trpc/live.stream',
      'POST /api/trpc/live.stream',
      'GET /api/trpc/live.streamer',
    ]);
    const taken = await open(path);
    await taken.until('"hello"');
    expect(app.transport.streams).toBe(1);
    expect(app.declined).toHaveLength(5);
    taken.close();
  });

  it('refuses to start with a ping interval above the client inactivity timeout, as tRPC does', () => {
    const { router } = miniApp({ ping: { enabled: true, intervalMs: 5000 }, client: { reconnectAfterInactivityMs: 1000 } });
    expect(() => createLiveTransport({ router, createContext: () => ({ user: null }) })).toThrow(/Ping interval/);
  });

  it('refuses a path that is not a subscription', () => {
    const { router } = miniApp(SSE);
    expect(() => createLiveTransport({ router, path: 'ping', createContext: () => ({ user: null }) })).toThrow(
      /is a query, not a subscription/,
    );
  });

  it('pings an idle stream, and stops its one timer when the last stream leaves', async () => {
    // Live timers counted against a baseline taken before any stream opened: a heartbeat timer that
    // outlives its last stream keeps the count above the baseline.
    const timers = trackTimers();
    try {
      const app = await serve(SSE, { pingIntervalMs: 30 });
      const baseline = timers.live();
      const stream = await open(`${app.url}/api/trpc/live.stream`);
      await stream.until('"hello"');
      await stream.until('event: ping\ndata: \n\n\n');
      expect(timers.live()).toBeGreaterThan(baseline);
      stream.close();
      await waitFor(() => app.transport.streams === 0 && app.hub.connectionCount === 0, 'the stream to leave');
      await waitFor(() => timers.live() <= baseline, 'the ping timer to stop', 1000);
      // Still stopped several ping periods later (nothing re-armed it).
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(timers.live()).toBeLessThanOrEqual(baseline);
    } finally {
      timers.restore();
    }
  });

  it('sends the response headers createContext set, cookies included', async () => {
    const app = await serve(SSE, {
      createContext: ({ headers, resHeaders }) => {
        resHeaders.set('x-stream-credential', 'cred-1');
        resHeaders.append('set-cookie', 'a=1; Path=/');
        resHeaders.append('set-cookie', 'b=2; Path=/');
        return { user: headers.get('x-user') };
      },
    });
    const stream = await open(`${app.url}/api/trpc/live.stream`);
    await stream.until('"hello"');
    expect(stream.res.headers['x-stream-credential']).toBe('cred-1');
    expect(stream.res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(stream.res.headers['content-type']).toBe('text/event-stream');
    stream.close();
  });

  it('sends a header createContext appended alone, and none it set and then deleted', async () => {
    const app = await serve(SSE, {
      createContext: ({ headers, resHeaders }) => {
        resHeaders.append('x-only-appended', 'yes');
        resHeaders.set('x-set-then-deleted', 'gone');
        resHeaders.delete('x-set-then-deleted');
        return { user: headers.get('x-user') };
      },
    });
    const stream = await open(`${app.url}/api/trpc/live.stream`);
    await stream.until('"hello"');
    expect(stream.res.headers['x-only-appended']).toBe('yes');
    expect(stream.res.headers).not.toHaveProperty('x-set-then-deleted');
    expect(stream.res.headers['content-type']).toBe('text/event-stream');
    stream.close();
  });

  it('reads a live stream request to its end, so a reset socket does not abort it with an error', async () => {
    const requests: IncomingMessage[] = [];
    const aborted: string[] = [];
    const app = await serve(SSE, {
      createContext: ({ req, headers }) => {
        requests.push(req);
        req.on('aborted', () => aborted.push(req.url!));
        return { user: headers.get('x-user') };
      },
    });
    const stream = await open(`${app.url}/api/trpc/live.stream`);
    await stream.until('"hello"');
    await waitFor(() => requests[0]!.readableEnded, 'the request to be read to its end');
    expect(app.hub.connectionCount).toBe(1);
    // The client resets its socket: node:http finds the request already read (no ECONNRESET abort of it),
    // and the stream still ends through the response.
    stream.res.socket.resetAndDestroy();
    await waitFor(() => app.hub.connectionCount === 0 && app.transport.streams === 0, 'the stream to leave');
    expect(aborted).toEqual([]);
  });

  it('leaves a request body that is still arriving unread', async () => {
    const requests: IncomingMessage[] = [];
    const app = await serve(SSE, {
      createContext: ({ req, headers }) => {
        requests.push(req);
        return { user: headers.get('x-user') };
      },
    });
    const { port } = new URL(app.url);
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => undefined);
    // A GET whose chunked body never ends: the stream opens, the body is not read on its behalf.
    socket.write('GET /api/trpc/live.stream HTTP/1.1\r\nHost: x\r\nx-user: u1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    await waitFor(() => text.includes('"hello"'), 'the hello');
    expect(requests[0]!.complete).toBe(false);
    expect(requests[0]!.readableFlowing).not.toBe(true);
    socket.destroy();
    await waitFor(() => app.hub.connectionCount === 0, 'the stream to leave');
  });

  it('never attaches a stream whose client left while it was being authenticated', async () => {
    let entered!: () => void;
    const inContext = new Promise<void>((resolve) => (entered = resolve));
    let returned!: () => void;
    const contextReturned = new Promise<void>((resolve) => (returned = resolve));
    const app = await serve(SSE, {
      createContext: async ({ headers, res }) => {
        entered();
        // Authentication outlives the client: return only after its socket closed.
        await new Promise((resolve) => (res.destroyed ? resolve(null) : res.once('close', resolve)));
        returned();
        return { user: headers.get('x-user') };
      },
    });
    const req = request(`${app.url}/api/trpc/live.stream`, { headers: { 'x-user': 'u1' } });
    req.on('error', () => undefined);
    req.end();
    await inContext;
    req.destroy();
    await contextReturned;
    // The procedure and the attach step run in microtasks after the context: all done by the next turn.
    await new Promise((resolve) => setImmediate(resolve));
    expect(app.hub.connectionCount).toBe(0);
    expect(app.transport.streams).toBe(0);
  });

  it('ends a stream after sse.maxDurationMs without a return event, so the client reconnects', async () => {
    const app = await serve({ ...SSE, maxDurationMs: 50 }, { pingIntervalMs: 20 });
    const stream = await open(`${app.url}/api/trpc/live.stream`);
    await stream.ended;
    expect(stream.text()).toContain('"hello"');
    expect(stream.text()).not.toContain('event: return');
    expect(app.hub.connectionCount).toBe(0);
    expect(app.transport.streams).toBe(0);
  });

  it('ends every stream on hub.drain with the jittered retry delay and no return event', async () => {
    const app = await serve(SSE);
    const streams = await Promise.all([1, 2, 3].map(() => open(`${app.url}/api/trpc/live.stream`)));
    await Promise.all(streams.map((s) => s.until('"hello"')));
    app.hub.drain({ jitterMs: 1000, random: () => 0.5 });
    await Promise.all(streams.map((s) => s.ended));
    for (const s of streams) {
      expect(s.text()).toContain('"kind":"reconnect"');
      expect(s.text()).toMatch(/retry: 500\n\n$/);
      expect(s.text()).not.toContain('event: return');
    }
    expect(app.transport.streams).toBe(0);
  });

  it('yields to the event loop between slices of a large fan-out, and delivers every frame', async () => {
    const CLIENTS = 300;
    const EVENTS = 20;
    const app = await serve(SSE, {}, { flushSliceSize: 50 });
    const streams = await Promise.all(Array.from({ length: CLIENTS }, () => open(`${app.url}/api/trpc/live.stream`)));
    await Promise.all(streams.map((s) => s.until('"hello"')));
    expect(app.hub.connectionCount).toBe(CLIENTS);

    // vi.spyOn calls through: counts the sink writes (one per connection per flush).
    const writes = vi.spyOn(SocketSink.prototype, 'write');
    const written = () => writes.mock.calls.length;
    const seenBetweenTurns: number[] = [];
    try {
      for (let i = 1; i <= EVENTS; i++) void app.hub.invalidate('acme', { resource: 'orders', id: String(i) });
      // Probe the event loop at every turn until every stream was written to.
      while (written() < CLIENTS) {
        await new Promise((resolve) => setImmediate(resolve));
        seenBetweenTurns.push(written());
      }
    } finally {
      writes.mockRestore();
    }
    // The loop ran while the fan-out was in progress: some turn saw part of the streams written.
    expect(seenBetweenTurns.some((n) => n > 0 && n < CLIENTS)).toBe(true);
    // Every stream got every frame, each connection's burst in one write.
    const last = `"id":"${EVENTS}"`;
    await Promise.all(streams.map((s) => s.until(last)));
    // One cursor per event, plus the hello's starting cursor.
    for (const s of streams) expect(s.text().split('\nid: ').length - 1).toBe(EVENTS + 1);
    expect(seenBetweenTurns.at(-1)).toBe(CLIENTS);
    for (const s of streams) s.close();
  });
});
