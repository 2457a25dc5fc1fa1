import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startProductionServer, type ProductionServer } from '../helpers/prodServer';
import { describeWithService } from '../helpers/services';
import { chromiumPath, launchChromium, signedInContext, trpcCall, waitForLive, watchNetwork } from './fixture';

type Order = { id: string; status: string };

/** Holds matching requests until released (a slow network for one request), recording their URLs. */
async function holdRequests(page: Page, pattern: string) {
  const held: Route[] = [];
  const urls: string[] = [];
  let released = false;
  await page.route(pattern, async (route) => {
    urls.push(route.request().url());
    if (released) await route.continue();
    else held.push(route);
  });
  return {
    urls,
    held: () => held.length,
    async release() {
      released = true;
      for (const route of held.splice(0)) await route.continue();
    },
  };
}

/** Requests of `page` for one tRPC procedure (a batch naming it counts once). */
function countCalls(page: Page, path: string): () => number {
  let n = 0;
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/api/trpc/') && url.pathname.slice('/api/trpc/'.length).split(',').includes(path)) n++;
  });
  return () => n;
}

/** The `lastEventId` a live-stream request resumed from (httpSubscriptionLink puts the input in the URL). */
const lastEventIdOf = (url: string): string | null => {
  const input = new URL(url).searchParams.get('input');
  return input ? ((JSON.parse(input) as { json?: { lastEventId?: string } }).json?.lastEventId ?? null) : null;
};

describeWithService('chromium', chromiumPath, 'server rendering without a stale gap (production build, Chromium)', () => {
  let server: ProductionServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const ORDER = 'ord_acme_1';

  beforeAll(async () => {
    server = await startProductionServer();
    browser = await launchChromium();
  }, 300_000);
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const open = async () => {
    const context = await signedInContext(browser, server.url, 'alice@acme.test');
    contexts.push(context);
    return context;
  };
  /** A status other than the order's current one. */
  const nextStatus = async (context: BrowserContext) => {
    const order = await trpcCall<Order>(context, 'query', 'orders.byId', { id: ORDER });
    return { before: order.status, next: order.status === 'shipped' ? 'pending' : 'shipped' };
  };

  it('shows a change committed between the server render and the stream connect, with one refetch of the order', async () => {
    const context = await open();
    const { before, next } = await nextStatus(context);
    const page = await context.newPage();
    const net = await watchNetwork(page);
    const byIdCalls = countCalls(page, 'orders.byId');
    const stream = await holdRequests(page, '**/api/trpc/live.stream**');
    await page.goto(`/orders/${ORDER}`);
    // Rendered on the server with the order (no query from the browser), and the page's stream is waiting.
    await page.getByTestId('order-status').getByText(before, { exact: true }).waitFor();
    await expect.poll(stream.held, { timeout: 15_000 }).toBe(1);
    expect(byIdCalls()).toBe(0);

    // The gap: another request changes the order after the render read it, before the stream is connected.
    await trpcCall(context, 'mutation', 'orders.updateStatus', { id: ORDER, status: next });
    await stream.release();
    await waitForLive(page, net);
    await page.getByTestId('order-status').getByText(next, { exact: true }).waitFor({ timeout: 10_000 });
    // Nothing else arrives late: the replayed change caused one refetch, and nothing caused another.
    await page.waitForTimeout(500);
    expect(byIdCalls()).toBe(1);
    expect(lastEventIdOf(stream.urls[0]!)).toMatch(/^[A-Za-z0-9_-]+:\d+$/);
    const replayed = net.payloads().filter((p) => p.kind === 'invalidate' && p.resource === 'orders' && p.id === ORDER);
    expect(replayed).toHaveLength(1);
    expect(net.payloads().some((p) => p.kind === 'reset')).toBe(false);
  });

  it('brings a second tab, which shares the first tab\'s stream, up to date with a change made before its script ran', async () => {
    const context = await open();
    const { before, next } = await nextStatus(context);
    // Tab A holds the browser's stream.
    const a = await context.newPage();
    const aNet = await watchNetwork(a);
    await a.goto('/orders');
    expect(await waitForLive(a, aNet)).toBe('leader');
    // Tab B: rendered on the server, then its scripts are held, so it listens to A only after the change.
    const b = await context.newPage();
    const bNet = await watchNetwork(b);
    const byIdCalls = countCalls(b, 'orders.byId');
    const scripts = await holdRequests(b, '**/_next/static/**/*.js');
    await b.goto(`/orders/${ORDER}`, { waitUntil: 'commit' });
    await b.getByTestId('order-status').getByText(before, { exact: true }).waitFor();
    await expect.poll(scripts.held, { timeout: 15_000 }).toBeGreaterThan(0);
    await trpcCall(context, 'mutation', 'orders.updateStatus', { id: ORDER, status: next });
    // A's stream delivered the change while nobody in B listened.
    await expect.poll(() => aNet.payloads().some((p) => p.kind === 'invalidate' && p.id === ORDER), { timeout: 10_000 }).toBe(true);
    await scripts.release();
    expect(await waitForLive(b, bNet)).toBe('follower');
    await b.getByTestId('order-status').getByText(next, { exact: true }).waitFor({ timeout: 10_000 });
    await b.waitForTimeout(500);
    expect(byIdCalls()).toBe(1);
    expect(bNet.liveStreams()).toHaveLength(0);
  });
});
