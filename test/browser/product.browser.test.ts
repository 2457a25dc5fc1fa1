import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { sampleOrderCsv } from '../../src/app/(app)/imports/sampleCsv';
import { startProductionServer, type ProductionServer } from '../helpers/prodServer';
import { describeWithService } from '../helpers/services';
import { waitFor } from '../helpers/wait';
import {
  chromiumPath,
  launchChromium,
  screenshot,
  signedInContext,
  trpcCall,
  waitForLive,
  watchNetwork,
  type NetworkWatch,
} from './fixture';

/** The issue's budget for a change to reach another user's screen. */
const PUSH_BUDGET_MS = 500;

describeWithService('chromium', chromiumPath, 'the product in a real browser (production build, Chromium)', () => {
  let server: ProductionServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  const open = async (email: Parameters<typeof signedInContext>[2]) => {
    const context = await signedInContext(browser, server.url, email);
    contexts.push(context);
    return context;
  };
  /** A new tab at `path`, its network watched from before the first request. */
  const tab = async (context: BrowserContext, path: string): Promise<{ page: Page; net: NetworkWatch }> => {
    const page = await context.newPage();
    const net = await watchNetwork(page);
    await page.goto(path);
    return { page, net };
  };
  /** Open live connections on the server, every tenant (`GET /api/health`). */
  const serverConnections = async () => ((await (await fetch(`${server.url}/api/health`)).json()) as { connections: number }).connections;
  const closeAll = async () => {
    for (const context of contexts.splice(0)) await context.close();
  };
  /** Waits (checking the server) until it has exactly `n` live connections. */
  const expectServerConnections = async (n: number) => {
    let last = -1;
    const deadline = Date.now() + 10_000;
    while ((last = await serverConnections()) !== n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(last).toBe(n);
  };

  beforeAll(async () => {
    server = await startProductionServer();
    browser = await launchChromium();
  }, 300_000);

  // Also after a failure: the next test counts connections on the server.
  afterEach(closeAll);

  afterAll(async () => {
    await closeAll();
    await browser?.close();
    await server?.stop();
  });

  it('pushes a new order from A1 to A2 list and dashboard within 500 ms, and nothing to tenant B', async () => {
    const a1 = await open('alice@acme.test');
    const a2 = await open('bob@acme.test');
    const b = await open('carol@globex.test');
    const a1Orders = await tab(a1, '/orders');
    const a2Orders = await tab(a2, '/orders');
    const a2Dashboard = await tab(a2, '/dashboard');
    const bOrders = await tab(b, '/orders');
    for (const { page, net } of [a1Orders, a2Orders, a2Dashboard, bOrders]) await waitForLive(page, net);
    await a2Dashboard.page.getByTestId('stat-orders').and(a2Dashboard.page.locator(':not(:text("—"))')).waitFor();
    const ordersBefore = Number((await a2Dashboard.page.getByTestId('stat-orders').textContent())!.replace(/,/g, ''));
    await bOrders.page.getByTestId('orders').locator('tbody tr').first().waitFor();
    const bBefore = await bOrders.page.locator('main').innerText();
    const bPayloadsBefore = bOrders.net.payloads().length;
    expect(bOrders.net.payloads().map((p) => p.kind)).toEqual(['hello']);

    // A MutationObserver stamps the moment the text lands in the DOM (rAF polling is throttled in background tabs).
    const appears = (page: Page, selector: string, text: string) =>
      page.evaluate(
        ([sel, name]) =>
          new Promise<number>((resolve) => {
            const check = () => {
              if (!document.querySelector(sel!)?.textContent?.includes(name!)) return false;
              observer.disconnect();
              resolve(Date.now());
              return true;
            };
            const observer = new MutationObserver(check);
            if (!check()) observer.observe(document.body, { subtree: true, childList: true, characterData: true });
          }),
        [selector, text] as const,
      );
    // t0 is the click event in A1's page (not Playwright's own actionability checks before it).
    const recordClick = (page: Page) =>
      page.evaluate(() => {
        const w = window as unknown as { __clickedAt?: number };
        w.__clickedAt = 0;
        document.addEventListener('click', () => (w.__clickedAt = Date.now()), { capture: true, once: true });
      });
    const clickedAt = (page: Page) => page.evaluate(() => (window as unknown as { __clickedAt: number }).__clickedAt);

    // Three orders, one after the other; the median is the figure (one slow sample on a shared 2-core machine is noise).
    const trials: Array<{ list: number; dashboard: number; frame: number }> = [];
    let customer = '';
    for (let trial = 0; trial < 3; trial++) {
      customer = `Latency Probe ${trial} ${Date.now().toString(36)}`;
      await a1Orders.page.getByRole('textbox', { name: 'Customer', exact: true }).fill(customer);
      await recordClick(a1Orders.page);
      const inList = appears(a2Orders.page, '[data-testid=orders]', customer);
      const onDashboard = appears(a2Dashboard.page, '[data-testid=recent-orders]', customer);
      await a1Orders.page.getByRole('button', { name: 'Create order' }).click();
      const t0 = await clickedAt(a1Orders.page);
      const [list, dashboard] = [(await inList) - t0, (await onDashboard) - t0];
      // When the orders invalidation reached A2's stream (DevTools network timestamp), for the breakdown.
      const frame = [...a2Orders.net.messages, ...a2Dashboard.net.messages].find(
        (m) => m.at >= t0 && m.data.includes('"resource":"orders"'),
      );
      trials.push({ list, dashboard, frame: frame ? frame.at - t0 : NaN });
      // The toast is the mutation's last signal: once A2 shows it, everything the mutation sent to acme was sent.
      await a2Orders.page.getByTestId('toast').filter({ hasText: customer }).waitFor({ timeout: 5000 });
      await a1Orders.page.getByRole('textbox', { name: 'Customer', exact: true }).and(a1Orders.page.locator('[value=""]')).waitFor();
    }
    const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
    const listMs = median(trials.map((t) => t.list));
    const dashboardMs = median(trials.map((t) => t.dashboard));
    console.log(
      `[browser] A1 creates an order → A2 sees it (click event in A1 to DOM in A2), median of ${trials.length}: ` +
        `orders list ${listMs} ms, dashboard ${dashboardMs} ms (budget ${PUSH_BUDGET_MS} ms); ` +
        `samples list/dashboard/stream-frame: ${trials.map((t) => `${t.list}/${t.dashboard}/${t.frame}`).join(', ')}`,
    );
    expect(listMs).toBeLessThanOrEqual(PUSH_BUDGET_MS);
    expect(dashboardMs).toBeLessThanOrEqual(PUSH_BUDGET_MS);
    await a2Dashboard.page.getByTestId('stat-orders').getByText(String(ordersBefore + trials.length)).waitFor({ timeout: 5000 });

    // A2's two tabs share one stream: only one of them holds an EventSource.
    expect(a2Orders.net.liveStreams().length + a2Dashboard.net.liveStreams().length).toBe(1);
    await screenshot(a2Dashboard.page, 'dashboard-after-push');
    await screenshot(a2Orders.page, 'orders-with-toast');

    expect(await bOrders.page.locator('main').innerText()).toBe(bBefore);
    expect(bOrders.net.payloads().length).toBe(bPayloadsBefore);
    expect(await bOrders.page.getByTestId('toast').count()).toBe(0);
  }, 90_000);

  it('keeps one live connection for three tabs of a browser and hands it over without a gap when the holder closes', async () => {
    await expectServerConnections(0);
    const dave = await open('dave@globex.test');
    const carol = await open('carol@globex.test');
    const tabs = [await tab(dave, '/orders')];
    expect(await waitForLive(tabs[0]!.page, tabs[0]!.net)).toBe('leader');
    tabs.push(await tab(dave, '/orders'), await tab(dave, '/dashboard'));
    expect(await waitForLive(tabs[1]!.page, tabs[1]!.net)).toBe('follower');
    expect(await waitForLive(tabs[2]!.page, tabs[2]!.net)).toBe('follower');
    await tabs[0]!.page.getByTestId('live-status').and(tabs[0]!.page.locator('[data-tabs="3"]')).waitFor();
    await expectServerConnections(1);
    expect(tabs.map((t) => t.net.liveStreams().length)).toEqual([1, 0, 0]);

    // A change reaches every tab through the leader's relay (and gives the followers a cursor).
    const first = await trpcCall<{ id: string; number: number }>(carol, 'mutation', 'orders.create', {
      customer: 'Relay Check',
      items: [{ productId: 'prd_globex_1', quantity: 1 }],
    });
    for (const t of tabs.slice(0, 2)) await t.page.getByTestId(`order-${first.id}`).waitFor({ timeout: 5000 });
    await tabs[2]!.page.getByTestId(`recent-${first.id}`).waitFor({ timeout: 5000 });

    // Close the holder and publish while nobody holds the stream: the next leader resumes from its last cursor.
    await tabs[0]!.page.close();
    const during = await trpcCall<{ id: string }>(carol, 'mutation', 'orders.create', {
      customer: 'During Handover',
      items: [{ productId: 'prd_globex_1', quantity: 1 }],
    });
    // One of the remaining tabs wins the lock and connects (the others keep showing the old leader's status meanwhile).
    await Promise.any(
      tabs.slice(1).map((t) => t.page.locator('[data-testid=live-status][data-role=leader][data-connected=true]').waitFor({ timeout: 15_000 })),
    );
    const roles = await Promise.all(tabs.slice(1).map((t) => waitForLive(t.page, t.net)));
    expect(roles.sort()).toEqual(['follower', 'leader']);
    await expectServerConnections(1);
    const after = await trpcCall<{ id: string }>(carol, 'mutation', 'orders.create', {
      customer: 'After Handover',
      items: [{ productId: 'prd_globex_1', quantity: 1 }],
    });
    for (const id of [during.id, after.id]) {
      await tabs[1]!.page.getByTestId(`order-${id}`).waitFor({ timeout: 5000 });
      await tabs[2]!.page.getByTestId(`recent-${id}`).waitFor({ timeout: 5000 });
    }
    const newLeader = tabs.slice(1).find((t) => t.net.liveStreams().length === 1)!;
    expect(newLeader).toBeDefined();
    // The takeover resubscribed with the last cursor it had seen (tRPC sends it as input.lastEventId).
    expect(decodeURIComponent(newLeader.net.liveStreams()[0]!.url)).toMatch(/"lastEventId":"[a-z0-9]+:\d+"/);
    await screenshot(tabs[2]!.page, 'dashboard-after-handover');
  }, 90_000);

  it('imports 10,000 CSV rows with the progress bar reaching 100% from at most 20 progress frames', async () => {
    const alice = await open('alice@acme.test');
    const imports = await tab(alice, '/imports');
    // Live before the second tab opens: the tab whose page starts first takes the lock, not the tab opened first.
    expect(await waitForLive(imports.page, imports.net)).toBe('leader');
    const dashboard = await tab(alice, '/dashboard');
    expect(await waitForLive(dashboard.page, dashboard.net)).toBe('follower');
    await dashboard.page.getByTestId('stat-orders').and(dashboard.page.locator(':not(:text("—"))')).waitFor();
    const ordersBefore = Number((await dashboard.page.getByTestId('stat-orders').textContent())!.replace(/,/g, ''));
    const products = await trpcCall<Array<{ sku: string }>>(alice, 'query', 'products.list');
    const csv = sampleOrderCsv(10_000, products.map((p) => p.sku));

    const t0 = Date.now();
    await imports.page.getByTestId('csv-file').setInputFiles({ name: 'orders-10k.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    const row = imports.page.locator('[data-testid^=import-imp_]').first();
    await row.waitFor({ timeout: 10_000 });
    const importId = (await row.getAttribute('data-testid'))!.slice('import-'.length);
    await imports.page.locator(`[data-testid=import-${importId}][data-status=done]`).waitFor({ timeout: 60_000 });
    await imports.page.locator(`[data-testid=import-progress-${importId}][aria-valuenow="100"]`).waitFor({ timeout: 5000 });
    const doneMs = Date.now() - t0;

    const key = `imports.${importId}`;
    const progress = () => imports.net.payloads().filter((p) => p.kind === 'progress' && p.key === key);
    // The final value is always delivered (coalesced lane): wait for it rather than trust the completion alone.
    await waitFor(() => progress().some((p) => p.current === 10_000), 'the final progress frame', 10_000);
    const frames = progress();
    const completions = imports.net.payloads().filter((p) => p.kind === 'complete' && p.key === key);
    console.log(
      `[browser] import of 10,000 rows: done after ${doneMs} ms; the browser received ${frames.length} progress frames ` +
        `(${frames.map((p) => p.current).join(', ')}) and ${completions.length} completion`,
    );
    // The page counts the progress messages its live listener got: the same frames, none twice.
    await row.getByText(`${frames.length} progress updates received`).waitFor({ timeout: 5000 });
    expect(frames.length).toBeGreaterThanOrEqual(1);
    expect(frames.length).toBeLessThanOrEqual(20);
    expect(completions).toHaveLength(1);
    expect(completions[0]).toMatchObject({ ok: true, extra: { imported: 10_000, failed: 0 } });

    // The imported orders appear elsewhere by invalidation, without a reload.
    await dashboard.page.getByTestId('stat-orders').getByText((ordersBefore + 10_000).toLocaleString('en-US')).waitFor({ timeout: 10_000 });
    expect(dashboard.net.liveStreams()).toHaveLength(0);
    await screenshot(imports.page, 'import-done');
    await screenshot(dashboard.page, 'dashboard-after-import');
  }, 120_000);

  it('makes no request but the single live stream during 10 idle seconds', async () => {
    const bob = await open('bob@acme.test');
    const pages = [await tab(bob, '/dashboard'), await tab(bob, '/orders'), await tab(bob, '/products')];
    for (const { page, net } of pages) await waitForLive(page, net);
    for (const { page } of pages) await page.waitForLoadState('load');
    await pages[0]!.page.getByTestId('stat-orders').and(pages[0]!.page.locator(':not(:text("—"))')).waitFor();
    await pages[1]!.page.getByTestId('orders').locator('tbody tr').first().waitFor();
    await pages[2]!.page.getByTestId('products').locator('tbody tr').first().waitFor();

    const requests: string[] = [];
    bob.on('request', (request) => requests.push(`${request.method()} ${request.url()}`));
    const streamsBefore = pages.flatMap((p) => p.net.liveStreams());
    // The idle window is the measurement itself, not a synchronisation sleep.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const streamsAfter = pages.flatMap((p) => p.net.liveStreams());
    console.log(`[browser] 10 s idle with 3 tabs: ${requests.length} requests; ${streamsAfter.length} live stream open`);
    expect(requests).toEqual([]);
    expect(streamsBefore).toHaveLength(1);
    expect(streamsAfter).toEqual(streamsBefore);
  }, 60_000);

  it('pauses the browser stream on the server while every tab is hidden and resumes it when one is shown', async () => {
    const bob = await open('bob@acme.test');
    const pages = [await tab(bob, '/orders'), await tab(bob, '/notifications')];
    for (const { page, net } of pages) await waitForLive(page, net);
    const setVisibility = (page: Page, state: 'visible' | 'hidden') =>
      page.evaluate((value) => {
        Object.defineProperty(document, 'visibilityState', { value, configurable: true });
        document.dispatchEvent(new Event('visibilitychange'));
      }, state);
    // The inspector is admin-only: Alice (same tenant) reads Bob's stream state there, without opening a page.
    const alice = await open('alice@acme.test');
    const ownStream = async () => {
      const snapshot = await trpcCall<{ connections: Array<{ user: string | null; paused: boolean }> }>(alice, 'query', 'inspector.snapshot');
      return snapshot.connections.filter((c) => c.user === 'usr_bob');
    };
    expect(await ownStream()).toEqual([expect.objectContaining({ paused: false })]);

    await setVisibility(pages[0]!.page, 'hidden');
    expect((await ownStream())[0]!.paused).toBe(false); // the other tab is still visible
    await setVisibility(pages[1]!.page, 'hidden');
    // The pause waits until every tab has been hidden for 3 s (a tab switch does not pause).
    await pages[0]!.page.getByTestId('live-status').and(pages[0]!.page.locator('.paused')).waitFor({ timeout: 10_000 });
    expect(await ownStream()).toEqual([expect.objectContaining({ paused: true })]);

    await setVisibility(pages[1]!.page, 'visible');
    await pages[0]!.page.getByTestId('live-status').and(pages[0]!.page.locator(':not(.paused)')).waitFor({ timeout: 5000 });
    expect(await ownStream()).toEqual([expect.objectContaining({ paused: false })]);
  }, 60_000);

  it('renders every page for a signed-in user (screenshots in test-results/screenshots)', async () => {
    const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 860 } });
    contexts.push(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto('/');
    await page.waitForURL('**/sign-in');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await screenshot(page, 'sign-in');
    await page.getByRole('cell', { name: /Alice Admin/ }).click();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/dashboard');
    await waitForLive(page);
    // Something for every page to show, also when this test runs alone.
    await trpcCall(context, 'mutation', 'orders.create', { customer: 'Screenshot Customer', items: [{ productId: 'prd_acme_2', quantity: 1 }] });

    const pagesToVisit: Array<[path: string, heading: string | RegExp, ready: string]> = [
      ['/dashboard', 'Dashboard', '[data-testid=recent-orders] tr'],
      ['/orders', 'Orders', '[data-testid=orders] tbody tr'],
      ['/orders/ord_acme_1', /Order #1/, '[data-testid=order-detail]'],
      ['/products', 'Products & inventory', '[data-testid=products] tbody tr'],
      ['/imports', 'Import orders', '[data-testid=imports] tbody tr'],
      ['/notifications', 'Notifications', '[data-testid=notifications] li'],
      ['/inspector', 'Live inspector', '[data-testid=inspector-recent] tbody tr'],
    ];
    for (const [path, heading, ready] of pagesToVisit) {
      // Client-side navigation through the nav bar where there is a link: the tab keeps its stream.
      const link = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: heading === 'Import orders' ? 'Import' : String(heading) });
      if (typeof heading === 'string' && (await link.count())) await link.click();
      else await page.goto(path);
      await page.waitForURL(`**${path}`);
      await page.getByRole('heading', { name: heading }).first().waitFor();
      await page.locator(ready).first().waitFor({ timeout: 10_000 });
      if (path === '/inspector') {
        // The inspector shows this tab's own stream (the only acme stream open now).
        await page.getByTestId('inspector-connections').filter({ hasText: /^1$/ }).waitFor({ timeout: 5000 });
        await page.getByTestId('inspector-connection-list').locator('tr.me').waitFor({ timeout: 5000 });
      }
      await screenshot(page, path.slice(1).replace(/\//g, '-'));
    }
    expect(errors).toEqual([]);
  }, 90_000);
});
