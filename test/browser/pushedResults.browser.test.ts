import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startProductionServer, type ProductionServer } from '../helpers/prodServer';
import { describeWithService } from '../helpers/services';
import { waitFor } from '../helpers/wait';
import { chromiumPath, launchChromium, signedInContext, trpcCall, waitForLive, watchNetwork, type NetworkWatch } from './fixture';

/** The tRPC procedures a request calls (a batch names several, comma-separated). */
const proceduresOf = (url: string): string[] => {
  const { pathname } = new URL(url);
  return pathname.startsWith('/api/trpc/') ? pathname.slice('/api/trpc/'.length).split(',') : [];
};

/**
 * Resolves once the context's tabs have sent at least `atLeast` watch calls and every one was answered, and none
 * followed for 300 ms: a change made earlier would find some watch unconfirmed and be refetched as before.
 */
async function watchesSettled(context: BrowserContext, atLeast: number): Promise<void> {
  let started = 0;
  let finished = 0;
  const isWatch = (url: string) => proceduresOf(url).includes('live.watch');
  context.on('request', (request) => void (isWatch(request.url()) && started++));
  context.on('requestfinished', (request) => void (isWatch(request.url()) && finished++));
  context.on('requestfailed', (request) => void (isWatch(request.url()) && finished++));
  for (;;) {
    await waitFor(() => finished >= atLeast && finished === started, `${atLeast} answered watch calls`, 10_000);
    const seen = started;
    await new Promise((resolve) => setTimeout(resolve, 300));
    if (started === seen && finished === started) return;
  }
}

/** Hides or shows a tab as the browser would tell the page (headless Chromium keeps every tab visible). */
const setVisibility = (page: Page, state: 'visible' | 'hidden') =>
  page.evaluate((value) => {
    Object.defineProperty(document, 'visibilityState', { value, configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);

describeWithService('chromium', chromiumPath, 'pushed results in a real browser (production build, Chromium)', () => {
  let server: ProductionServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

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

  it('shows a hidden tab with the changes made meanwhile, from pushed results, without a request', async () => {
    const bob = await signedInContext(browser, server.url, 'bob@acme.test');
    const alice = await signedInContext(browser, server.url, 'alice@acme.test');
    contexts.push(bob, alice);
    const calls: Array<{ procedures: string[]; at: number }> = [];
    bob.on('request', (request) => calls.push({ procedures: proceduresOf(request.url()), at: Date.now() }));
    const watched = watchesSettled(bob, 1);
    const tabs: Array<{ page: Page; net: NetworkWatch }> = [];
    for (const path of ['/orders', '/dashboard', '/orders']) {
      const page = await bob.newPage();
      const net = await watchNetwork(page);
      await page.goto(path);
      tabs.push({ page, net });
    }
    for (const { page, net } of tabs) await waitForLive(page, net);
    const [leader, dashboard, hidden] = tabs as [(typeof tabs)[0], (typeof tabs)[0], (typeof tabs)[0]];
    await hidden.page.getByTestId('orders').locator('tbody tr').first().waitFor();
    await dashboard.page.getByTestId('stat-orders').and(dashboard.page.locator(':not(:text("—"))')).waitFor();
    // Every tab's watches went out (the leader sends them all, batched, on the one shared connection) and were answered.
    await watched;
    expect(leader.net.liveStreams().length + dashboard.net.liveStreams().length + hidden.net.liveStreams().length).toBe(1);
    const watchCalls = calls.filter((c) => c.procedures.includes('live.watch')).length;
    console.log(`[browser] three tabs opened one after the other (/orders, /dashboard, /orders): ${watchCalls} live.watch calls`);

    await setVisibility(hidden.page, 'hidden');
    const since = Date.now();
    const created: string[] = [];
    for (let i = 0; i < 2; i++) {
      const order = await trpcCall<{ id: string }>(alice, 'mutation', 'orders.create', {
        customer: `Pushed While Hidden ${i} ${Date.now().toString(36)}`,
        items: [{ productId: 'prd_acme_1', quantity: 1 }],
      });
      created.push(order.id);
    }
    // The hidden tab's cache takes the pushed lists while hidden (React renders them into its DOM).
    for (const id of created) await hidden.page.getByTestId(`order-${id}`).waitFor({ state: 'attached', timeout: 5000 });
    await setVisibility(hidden.page, 'visible');
    // Longer than the hold bound (1 s): a held invalidation that never got its result would refetch by then.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    for (const id of created) await hidden.page.getByTestId(`order-${id}`).waitFor({ timeout: 1000 });
    const queries = calls.filter((c) => c.at >= since).flatMap((c) => c.procedures);
    console.log(`[browser] two changes, three tabs (one hidden, then shown): requests by the tabs ${JSON.stringify(queries)}`);
    expect(queries).toEqual([]);
    const kinds = [...leader.net.payloads(since), ...dashboard.net.payloads(since), ...hidden.net.payloads(since)].map((p) => p.kind);
    expect(kinds).toContain('result');
    expect(kinds).not.toContain('refetch');
  }, 120_000);

  it('costs the mutating tab only its mutation request: its own change arrives as a pushed result', async () => {
    const bob = await signedInContext(browser, server.url, 'bob@acme.test');
    contexts.push(bob);
    const calls: Array<{ procedures: string[]; at: number }> = [];
    bob.on('request', (request) => calls.push({ procedures: proceduresOf(request.url()), at: Date.now() }));
    const watched = watchesSettled(bob, 1);
    const page = await bob.newPage();
    const net = await watchNetwork(page);
    await page.goto('/orders');
    await waitForLive(page, net);
    await page.getByTestId('orders').locator('tbody tr').first().waitFor();
    await watched;

    const since = Date.now();
    const customer = `Own Change ${Date.now().toString(36)}`;
    await page.getByRole('textbox', { name: 'Customer', exact: true }).fill(customer);
    await page.getByRole('button', { name: 'Create order' }).click();
    await page.getByTestId('orders').getByText(customer).waitFor({ timeout: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const requests = calls.filter((c) => c.at >= since).flatMap((c) => c.procedures);
    console.log(`[browser] a tab creating an order: requests ${JSON.stringify(requests)}`);
    expect(requests).toEqual(['orders.create']);
    expect(net.payloads(since).map((p) => p.kind)).toContain('result');
  }, 60_000);

  it('brings a paused browser up to date when a tab is shown: the change made while paused arrives as a result computed on resume, with no query request', async () => {
    const bob = await signedInContext(browser, server.url, 'bob@acme.test');
    const alice = await signedInContext(browser, server.url, 'alice@acme.test');
    contexts.push(bob, alice);
    const calls: Array<{ procedures: string[]; at: number }> = [];
    bob.on('request', (request) => calls.push({ procedures: proceduresOf(request.url()), at: Date.now() }));
    const watched = watchesSettled(bob, 1);
    const page = await bob.newPage();
    const net = await watchNetwork(page);
    await page.goto('/orders');
    await waitForLive(page, net);
    await page.getByTestId('orders').locator('tbody tr').first().waitFor();
    await watched;
    await setVisibility(page, 'hidden');
    // Every tab hidden for 3 s: the connection is paused on the server.
    await page.getByTestId('live-status').and(page.locator('.paused')).waitFor({ timeout: 10_000 });
    const since = Date.now();
    const order = await trpcCall<{ id: string }>(alice, 'mutation', 'orders.create', {
      customer: `While Paused ${Date.now().toString(36)}`,
      items: [{ productId: 'prd_acme_1', quantity: 1 }],
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Paused: nothing of the change reached the page.
    expect(net.payloads(since).map((p) => p.kind)).toEqual([]);
    const shownAt = Date.now();
    await setVisibility(page, 'visible');
    await page.getByTestId(`order-${order.id}`).waitFor({ timeout: 5000 });
    const elapsed = Date.now() - shownAt;
    // Longer than the hold bound (1 s): a held invalidation that never got its result would refetch by then.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const kinds = net.payloads(since).map((p) => p.kind);
    const requests = calls.filter((c) => c.at >= since).flatMap((c) => c.procedures);
    console.log(`[browser] paused, then shown: the change made meanwhile on screen after ${elapsed} ms; frames ${JSON.stringify(kinds)}; requests ${JSON.stringify(requests)}`);
    expect(kinds).toContain('result');
    expect(kinds).not.toContain('refetch');
    // The resume call only: the server computed the list once the stream resumed and pushed it.
    expect(requests).toEqual(['live.resume']);
    expect(elapsed).toBeLessThan(1_000);
  }, 60_000);
});
