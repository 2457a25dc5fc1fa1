/**
 * The same requests, raw, to the stock tRPC route and to the fast transport
 * (one app, one hub): refusals and frames must be byte-identical.
 */
import { request, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupApp, sessionCookieFor, type TestApp } from '../helpers/app';
import { serveTrpc } from '../helpers/http';
import { waitFor } from '../helpers/wait';

type Served = Awaited<ReturnType<typeof serveTrpc>>;

interface RawStream {
  res: IncomingMessage;
  text(): string;
  /** Resolves once the body contains `part` (or ended). */
  until(part: string): Promise<void>;
  ended: Promise<void>;
  close(): void;
}

function open(url: string, path: string, headers: Record<string, string> = {}): Promise<RawStream> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let body = '';
      const waiters: Array<() => void> = [];
      let done!: () => void;
      const ended = new Promise<void>((r) => (done = r));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        for (const wake of waiters.splice(0)) wake();
      });
      res.on('end', () => {
        done();
        for (const wake of waiters.splice(0)) wake();
      });
      res.on('error', () => undefined);
      resolve({
        res,
        text: () => body,
        ended,
        until: (part) =>
          new Promise<void>((ok) => {
            const check = () => (body.includes(part) || res.complete ? ok() : waiters.push(check));
            check();
          }),
        close: () => req.destroy(),
      });
    });
    req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
    req.end();
  });
}

const SSE_HEADERS = ['content-type', 'cache-control', 'x-accel-buffering', 'vary'];
const pick = (res: IncomingMessage) => Object.fromEntries(SSE_HEADERS.map((h) => [h, res.headers[h]]));
const input = (value: unknown) => `?input=${encodeURIComponent(JSON.stringify({ json: value }))}`;

describe('stock route and fast transport on the wire', () => {
  let app: TestApp;
  let stock: Served;
  let fast: Served;
  let cookie: string;

  beforeAll(async () => {
    app = await setupApp();
    stock = await serveTrpc({ transport: 'stock' });
    fast = await serveTrpc({ transport: 'fast' });
    cookie = await sessionCookieFor('bob@acme.test');
  });
  afterAll(async () => {
    await stock.close();
    await fast.close();
    await app.close();
  });

  /** Both answers to one refused request, completely read. */
  async function refused(path: string, headers: Record<string, string> = {}) {
    const [a, b] = await Promise.all([open(stock.url, path, headers), open(fast.url, path, headers)]);
    await Promise.all([a.ended, b.ended]);
    return { stock: a, fast: b };
  }

  it('answers an unauthenticated stream with the same status, headers and bytes', async () => {
    const { stock: a, fast: b } = await refused('/api/trpc/live.stream');
    expect(a.text()).toContain('event: serialized-error');
    expect(a.text()).toContain('"UNAUTHORIZED"');
    expect(b.res.statusCode).toBe(a.res.statusCode);
    expect(pick(b.res)).toEqual(pick(a.res));
    expect(b.text()).toBe(a.text());
    expect(fast.live!.streams).toBe(0);
  });

  it('answers malformed input with the same BAD_REQUEST bytes, from the query or the Last-Event-ID header', async () => {
    const fromQuery = await refused(`/api/trpc/live.stream${input({ topics: ['orders..bad'] })}`, { cookie });
    expect(fromQuery.stock.text()).toContain('"BAD_REQUEST"');
    expect(fromQuery.fast.text()).toBe(fromQuery.stock.text());

    // Longer than any cursor: refused (a short malformed one gets a reset instead, see replay.test.ts).
    const fromHeader = await refused('/api/trpc/live.stream', { cookie, 'last-event-id': 'e'.repeat(400) });
    expect(fromHeader.stock.text()).toContain('lastEventId');
    expect(fromHeader.fast.text()).toBe(fromHeader.stock.text());

    const notJson = await refused('/api/trpc/live.stream?input=%7Bnope', { cookie });
    expect(notJson.stock.text()).toContain('"BAD_REQUEST"');
    expect(notJson.fast.text()).toBe(notJson.stock.text());
    expect(app.hub.connectionCount).toBe(0);
  });

  it('answers malformed connection params with the same status and JSON error body', async () => {
    const { stock: a, fast: b } = await refused('/api/trpc/live.stream?connectionParams=%7Bnope', { cookie });
    expect(a.res.statusCode).toBe(400);
    expect(b.res.statusCode).toBe(a.res.statusCode);
    expect(b.text()).toBe(a.text());
    expect(JSON.parse(a.text())).toMatchObject({ error: { json: { data: { code: 'PARSE_ERROR' } } } });
  });

  it('sends the same headers, preamble and frame bytes for one publish to both streams', async () => {
    const [a, b] = await Promise.all([
      open(stock.url, '/api/trpc/live.stream', { cookie }),
      open(fast.url, '/api/trpc/live.stream', { cookie }),
    ]);
    await Promise.all([a.until('"hello"'), b.until('"hello"')]);
    expect(b.res.statusCode).toBe(200);
    expect(pick(b.res)).toEqual(pick(a.res));
    const hello = /"connectionId":"[^"]+"/g;
    expect(b.text().replace(hello, '')).toBe(a.text().replace(hello, ''));

    const receipt = await app.hub.invalidate('acme', { resource: 'orders', id: 'ord_wire', hint: { when: 'now' } });
    const idLine = `id: ${receipt.cursor}\n`;
    await Promise.all([a.until(idLine), b.until(idLine)]);
    const frameOf = (text: string) => text.slice(text.lastIndexOf('data: ', text.indexOf(idLine)));
    expect(frameOf(b.text())).toBe(frameOf(a.text()));
    expect(frameOf(b.text())).toMatch(/^data: \{"json":\{"kind":"invalidate".*\}\nid: [^\n]+\n\n\n$/);
    a.close();
    b.close();
    await waitFor(() => app.hub.connectionCount === 0, 'both streams to leave');
  });

  // Last two: a drained hub stays drained.
  it('ends a drained stream with the same bytes on both: the hint, its retry delay, then the end', async () => {
    const [a, b] = await Promise.all([
      open(stock.url, '/api/trpc/live.stream', { cookie }),
      open(fast.url, '/api/trpc/live.stream', { cookie }),
    ]);
    await Promise.all([a.until('"hello"'), b.until('"hello"')]);
    // A tracked frame first, so the hint goes through tRPC's clear-and-restore of the event id.
    const receipt = await app.hub.invalidate('acme', { resource: 'orders', id: 'ord_before_drain' });
    await Promise.all([a.until(`id: ${receipt.cursor}\n`), b.until(`id: ${receipt.cursor}\n`)]);
    expect(app.hub.drain({ jitterMs: 1000, random: () => 0.5 })).toBe(2);
    await Promise.all([a.ended, b.ended]);
    const hello = /"connectionId":"[^"]+"/g;
    expect(a.text()).toMatch(/"kind":"reconnect","afterMs":500,"reason":"drain"[^\n]*\nid: \n\n\nevent: restore-id\ndata: \nid: [^\n]+\n\n\nretry: 500\n\n$/);
    expect(b.text().replace(hello, '')).toBe(a.text().replace(hello, ''));
    await waitFor(() => app.hub.connectionCount === 0, 'both streams to leave');
  });

  it('refuses a new stream of a draining hub with the same bytes', async () => {
    app.hub.drain({ jitterMs: 0 });
    const { stock: a, fast: b } = await refused('/api/trpc/live.stream', { cookie });
    expect(a.text()).toContain('event: serialized-error');
    // Retryable, so clients reconnect (to another instance) rather than give up.
    expect(a.text()).toContain('"code":"SERVICE_UNAVAILABLE"');
    expect(b.text()).toBe(a.text());
    expect(fast.live!.streams).toBe(0);
  });
});
