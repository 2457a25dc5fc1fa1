import { Agent, request, type ClientRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionCookieFor } from '../helpers/app';
import { startProductionServer, type ProductionServer } from '../helpers/prodServer';

const CLIENTS = 200;
const DRAIN_TIMEOUT_MS = 10_000;
const JITTER_MS = 2_000;
/** The grace of both servers here: long enough for a loaded CI machine to show a difference, short for the suite. */
const GRACE_MS = 3_000;

interface StreamClient {
  req: ClientRequest;
  text: string;
  hello: Promise<void>;
  ended: Promise<void>;
}

/** A raw SSE client of the live stream (what EventSource would see, frame by frame). */
function openStream(url: string, cookie: string): StreamClient {
  let onHello!: () => void;
  let onEnd!: () => void;
  const client = {
    text: '',
    hello: new Promise<void>((resolve) => (onHello = resolve)),
    ended: new Promise<void>((resolve) => (onEnd = resolve)),
  } as StreamClient;
  client.req = request(`${url}/api/trpc/live.stream`, { headers: { cookie, accept: 'text/event-stream' } }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      client.text += chunk;
      if (client.text.includes('"hello"')) onHello();
    });
    res.on('end', onEnd);
    res.on('error', onEnd);
  });
  client.req.on('error', () => onEnd());
  client.req.end();
  return client;
}

describe('drain: SIGTERM on the production server', () => {
  let server: ProductionServer;
  beforeAll(async () => {
    server = await startProductionServer({
      LIVE_DRAIN_GRACE_MS: String(GRACE_MS),
      LIVE_DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS),
      LIVE_DRAIN_JITTER_MS: String(JITTER_MS),
    });
  }, 180_000);
  afterAll(async () => {
    if (server.child.exitCode === null) await server.stop('SIGKILL');
  });

  it('tells 200 streams to reconnect with jitter, finishes an in-flight mutation, and exits 0 within grace plus timeout', async () => {
    // The default production server serves tRPC's HTTP API itself (the mutation below goes that way).
    expect(server.output()).toContain('tRPC HTTP: direct');
    const cookies = [await sessionCookieFor('bob@acme.test'), await sessionCookieFor('carol@globex.test')];
    const clients = Array.from({ length: CLIENTS }, (_, i) => openStream(server.url, cookies[i % 2]!));
    await Promise.all(clients.map((c) => c.hello));

    // A slow mutation: the request is in flight (headers sent), its body arrives later.
    const body = JSON.stringify({ json: { customer: 'During drain', items: [{ productId: 'prd_acme_1', quantity: 1 }] } });
    let finishBody: () => void = () => undefined;
    // Node's server answers `100 Continue` in the same step that hands the request to the app: once the client
    // sees it, the mutation is in flight (a request answered on another connection proves nothing on a loaded machine).
    let headersRead!: () => void;
    const inFlight = new Promise<void>((resolve) => (headersRead = resolve));
    const mutation = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        `${server.url}/api/trpc/orders.create`,
        {
          method: 'POST',
          headers: {
            cookie: cookies[0]!,
            origin: server.url,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            expect: '100-continue',
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.on('continue', headersRead);
      req.write(body.slice(0, 20));
      finishBody = () => req.end(body.slice(20));
    });
    await inFlight;
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));

    const started = performance.now();
    server.child.kill('SIGTERM');
    await Promise.all(clients.map((c) => c.ended));
    const streamsClosedMs = performance.now() - started;

    // Every stream got a reconnect hint (a control frame without a cursor) and a jittered retry delay.
    const delays: number[] = [];
    for (const client of clients) {
      expect(client.text).toContain('"kind":"reconnect"');
      expect(client.text).not.toContain('event: return');
      const retry = /^retry: (\d+)$/m.exec(client.text);
      expect(retry).not.toBeNull();
      delays.push(Number(retry![1]));
    }
    expect(Math.max(...delays)).toBeLessThan(JITTER_MS);
    expect(new Set(delays).size).toBeGreaterThan(CLIENTS / 4); // spread, not one instant

    // While the mutation is in flight the server still answers: health is 503, new streams are refused (retryable).
    const health = await fetch(`${server.url}/api/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'draining' });
    const refused = await fetch(`${server.url}/api/trpc/live.stream`, { headers: { cookie: cookies[0]! } });
    expect(await refused.text()).toContain('SERVICE_UNAVAILABLE');

    finishBody();
    const result = await mutation;
    expect(result.status).toBe(200);
    expect(result.text).toContain('During drain');

    const code = await exited;
    const exitMs = performance.now() - started;
    console.log(
      `[drain] ${CLIENTS} streams closed after ${streamsClosedMs.toFixed(0)} ms; process exited ${code} after ${exitMs.toFixed(0)} ms (grace ${GRACE_MS} ms, timeout ${DRAIN_TIMEOUT_MS} ms)`,
    );
    expect(code).toBe(0);
    expect(exitMs).toBeLessThan(GRACE_MS + DRAIN_TIMEOUT_MS);
    const line = /draining — (\d+) live stream\(s\) told to reconnect, (\d+) request\(s\) in flight/.exec(server.output());
    expect(line).not.toBeNull();
    expect(Number(line![1])).toBe(CLIENTS);
    // The streams plus at least the mutation were in flight when the signal arrived.
    expect(Number(line![2])).toBeGreaterThanOrEqual(CLIENTS + 1);
  });
});

/** One request of the continuous client and how it ended. */
interface Outcome {
  readonly kind: 'fresh' | 'kept';
  readonly path: string;
  /** performance.now() when it was sent. */
  readonly sentAt: number;
  readonly status?: number;
  readonly connection?: string;
  /** Local port: which connection carried it. */
  readonly via?: number;
  readonly error?: string;
}

/** GET `path`, on a new connection (`agent: false`) or a kept-alive pooled one. */
function get(url: string, path: string, kind: Outcome['kind'], agent: Agent, cookie: string): Promise<Outcome> {
  const sentAt = performance.now();
  return new Promise((resolve) => {
    const req = request(`${url}${path}`, { agent: kind === 'fresh' ? false : agent, headers: { cookie } }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ kind, path, sentAt, status: res.statusCode, connection: res.headers.connection, via: req.socket?.localPort }),
      );
      res.on('error', (error) => resolve({ kind, path, sentAt, error: (error as NodeJS.ErrnoException).code ?? String(error) }));
    });
    req.on('error', (error) => resolve({ kind, path, sentAt, error: (error as NodeJS.ErrnoException).code ?? String(error) }));
    req.end();
  });
}

describe('drain: a client sending requests continuously through SIGTERM', () => {
  let server: ProductionServer;
  beforeAll(async () => {
    server = await startProductionServer({ LIVE_DRAIN_GRACE_MS: String(GRACE_MS), LIVE_DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS) });
  }, 180_000);
  afterAll(async () => {
    if (server.child.exitCode === null) await server.stop('SIGKILL');
  });

  it('sees no reset and no refusal until the grace ends, and only 503 / Connection: close once the drain began', async () => {
    const cookie = await sessionCookieFor('bob@acme.test');
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    // When the server printed a line (performance.now()), to place each request against the drain.
    const printedAt = (part: string) =>
      new Promise<number>((resolve) => {
        const onData = (chunk: Buffer) => {
          if (!chunk.toString().includes(part)) return;
          server.child.stdout!.off('data', onData);
          resolve(performance.now());
        };
        server.child.stdout!.on('data', onData);
      });
    const drainBegan = printedAt('draining —');
    const graceOver = printedAt('grace over');
    const exited = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
    let running = true;
    void exited.then(() => (running = false));
    const outcomes: Outcome[] = [];
    const paths = ['/api/health', '/api/trpc/products.list'];
    // Two loops per kind, each sending its next request as soon as the last one ended.
    const loop = async (kind: Outcome['kind'], offset: number) => {
      for (let i = offset; running; i++) {
        outcomes.push(await get(server.url, paths[i % paths.length]!, kind, agent, cookie));
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const loops = Promise.all([loop('fresh', 0), loop('fresh', 1), loop('kept', 0), loop('kept', 1)]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalAt = performance.now();
    server.child.kill('SIGTERM');
    const [drainAt, graceAt] = await Promise.all([drainBegan, graceOver]);
    await exited;
    await loops;
    agent.destroy();

    // The server's grace starts when it handles the signal, so it ends GRACE_MS after the signal at the earliest.
    // A request sent a second before that is on the wire for far less than a second, even on a loaded machine.
    const safeUntil = signalAt + GRACE_MS - 1_000;
    const inGrace = outcomes.filter((o) => o.sentAt >= signalAt && o.sentAt < safeUntil);
    const failedInGrace = inGrace.filter((o) => o.error !== undefined);
    const afterDrain = outcomes.filter((o) => o.sentAt > drainAt && o.error === undefined);
    const wrongAnswers = afterDrain.filter(
      (o) => o.connection !== 'close' || (o.path === '/api/health' && o.status !== 503),
    );
    const before = outcomes.filter((o) => o.sentAt < signalAt);
    const late = outcomes.filter((o) => o.sentAt >= safeUntil);
    const keptConnections = new Set(before.filter((o) => o.kind === 'kept').map((o) => o.via)).size;
    console.log(
      `[drain] continuous client: ${before.length} requests before the signal (kept-alive on ${keptConnections} connections), ` +
        `${inGrace.length} in the grace (${failedInGrace.length} failed), drain seen after ${(drainAt - signalAt).toFixed(0)} ms, ` +
        `grace over after ${(graceAt - signalAt).toFixed(0)} ms; after it: ${late.filter((o) => o.error).length} errors ` +
        `(${[...new Set(late.map((o) => o.error).filter(Boolean))].join(', ')}) of ${late.length}`,
    );
    expect(failedInGrace).toEqual([]);
    expect(wrongAnswers).toEqual([]);
    // The test exercised what it claims: both kinds of connection, reused pooled ones, many requests in the grace.
    expect(keptConnections).toBeGreaterThan(0);
    expect(before.filter((o) => o.kind === 'kept').length).toBeGreaterThan(keptConnections);
    for (const kind of ['fresh', 'kept'] as const) {
      expect(inGrace.filter((o) => o.kind === kind && o.status !== undefined).length).toBeGreaterThan(10);
      expect(afterDrain.filter((o) => o.kind === kind && o.path === '/api/health').length).toBeGreaterThan(0);
    }
    expect(graceAt - signalAt).toBeGreaterThanOrEqual(GRACE_MS);
  });
});
