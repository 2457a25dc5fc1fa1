import { request, type ClientRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionCookieFor } from '../helpers/app';
import { startProductionServer, type ProductionServer } from '../helpers/prodServer';

const CLIENTS = 200;
const DRAIN_TIMEOUT_MS = 10_000;
const JITTER_MS = 2_000;

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
      LIVE_DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS),
      LIVE_DRAIN_JITTER_MS: String(JITTER_MS),
    });
  }, 180_000);
  afterAll(async () => {
    if (server.child.exitCode === null) await server.stop('SIGKILL');
  });

  it('tells 200 streams to reconnect with jitter, finishes an in-flight mutation, and exits 0 within the timeout', async () => {
    // The default production server serves tRPC's HTTP API itself (the mutation below goes that way).
    expect(server.output()).toContain('tRPC HTTP: direct');
    const cookies = [await sessionCookieFor('bob@acme.test'), await sessionCookieFor('carol@globex.test')];
    const clients = Array.from({ length: CLIENTS }, (_, i) => openStream(server.url, cookies[i % 2]!));
    await Promise.all(clients.map((c) => c.hello));

    // A slow mutation: the request is in flight (headers sent), its body arrives later.
    const body = JSON.stringify({ json: { customer: 'During drain', items: [{ productId: 'prd_acme_1', quantity: 1 }] } });
    let finishBody: () => void = () => undefined;
    const mutation = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        `${server.url}/api/trpc/orders.create`,
        {
          method: 'POST',
          headers: { cookie: cookies[0]!, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 20));
      finishBody = () => req.end(body.slice(20));
    });
    // A request sent after the mutation's headers and answered means the server has read those headers
    // (the drain log below proves the mutation was in flight when the signal arrived).
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
      `[drain] ${CLIENTS} streams closed after ${streamsClosedMs.toFixed(0)} ms; process exited ${code} after ${exitMs.toFixed(0)} ms (timeout ${DRAIN_TIMEOUT_MS} ms)`,
    );
    expect(code).toBe(0);
    expect(exitMs).toBeLessThan(DRAIN_TIMEOUT_MS);
    const line = /draining — (\d+) live stream\(s\) told to reconnect, (\d+) request\(s\) in flight/.exec(server.output());
    expect(line).not.toBeNull();
    expect(Number(line![1])).toBe(CLIENTS);
    // The streams plus at least the mutation were in flight when the signal arrived.
    expect(Number(line![2])).toBeGreaterThanOrEqual(CLIENTS + 1);
  });
});
