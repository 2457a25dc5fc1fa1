import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DEMO_PASSWORD } from '../../src/server/db/seed';
import type { DemoEmail } from '../helpers/app';
import { findBinary } from '../helpers/services';

/** Debian's Chromium (installed by `.ci/run`), or null. */
export const chromiumPath = findBinary('chromium', ['/usr/bin/chromium-browser']);

/** Where screenshots go (a CI artifact). */
export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, '../../test-results/screenshots');

/** Headless Chromium without background traffic (updates, sync, safe browsing): only the app makes requests. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath!,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
}

/**
 * The site's origin per context: Playwright's request API sends a browser's user agent but no `Origin`, which the
 * server refuses on a POST (csrfGuard); a page of the app sends it on every POST.
 */
const siteOrigins = new WeakMap<BrowserContext, string>();
const originHeader = (context: BrowserContext): Record<string, string> => {
  const page = context.pages()[0]?.url();
  const origin = siteOrigins.get(context) ?? (page?.startsWith('http') ? new URL(page).origin : undefined);
  return origin ? { origin } : {};
};

/** A browser context (one "browser profile": shared cookies, one live stream) signed in as a demo user. */
export async function signedInContext(browser: Browser, baseURL: string, email: DemoEmail): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 860 } });
  siteOrigins.set(context, new URL(baseURL).origin);
  const res = await context.request.post('/api/trpc/auth.signIn', {
    data: { json: { email, password: DEMO_PASSWORD } },
    headers: originHeader(context),
  });
  if (!res.ok()) throw new Error(`sign-in as ${email} failed: ${res.status()} ${await res.text()}`);
  return context;
}

/** One SSE message as Chromium's network layer saw it. */
export interface SseMessage {
  readonly requestId: string;
  readonly event: string;
  readonly id: string;
  readonly data: string;
  readonly at: number;
}

/** A live-stream payload (superjson `json` part) of one SSE data message. */
export type StreamPayload = { kind: string; [key: string]: unknown };

/**
 * Records a page's network at the DevTools protocol level: EventSource
 * requests opened and every SSE message received on them, with arrival
 * times. Attach before navigating.
 */
export async function watchNetwork(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const streams: Array<{ requestId: string; url: string }> = [];
  const messages: SseMessage[] = [];
  /** Console warnings and errors of the page, for failure reports. */
  const console: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (error) => console.push(`pageerror: ${error.message}`));
  const failed: string[] = [];
  cdp.on('Network.loadingFailed', (e) => failed.push(`${e.requestId} ${e.errorText}${e.canceled ? ' (canceled)' : ''}`));
  cdp.on('Network.requestWillBeSent', (e) => {
    if (e.type === 'EventSource') streams.push({ requestId: e.requestId, url: e.request.url });
  });
  cdp.on('Network.eventSourceMessageReceived', (e) => {
    messages.push({ requestId: e.requestId, event: e.eventName, id: e.eventId, data: e.data, at: Date.now() });
  });
  return {
    /** EventSource requests the page opened (live stream, inspector). */
    streams,
    /** Every SSE message, in arrival order. */
    messages,
    console,
    /** Requests that failed (network errors, cancellations). */
    failed,
    /** Payloads of data messages on live-stream requests, in arrival order. */
    payloads(since = 0): StreamPayload[] {
      const live = new Set(streams.filter((s) => s.url.includes('/live.stream')).map((s) => s.requestId));
      return messages
        .filter((m) => m.at >= since && live.has(m.requestId) && m.event === 'message' && m.data)
        .map((m) => (JSON.parse(m.data) as { json: StreamPayload }).json);
    },
    liveStreams: () => streams.filter((s) => s.url.includes('/live.stream')),
    detach: () => cdp.detach().catch(() => undefined),
  };
}

export type NetworkWatch = Awaited<ReturnType<typeof watchNetwork>>;

/**
 * Resolves once the page's live badge says the browser's stream is
 * connected, and returns this tab's role. On timeout, the error says what
 * the tab and its network were doing.
 */
export async function waitForLive(page: Page, net?: NetworkWatch, timeout = 15_000): Promise<string> {
  const badge = page.getByTestId('live-status');
  try {
    await badge.and(page.locator('[data-connected=true]')).waitFor({ timeout });
  } catch (error) {
    const state = await badge
      .evaluate((el) => `${el.getAttribute('data-role')} connected=${el.getAttribute('data-connected')} "${el.textContent}"`)
      .catch((e: unknown) => `no badge (${String(e)})`);
    const detail = net
      ? `streams ${JSON.stringify(net.streams)}; last messages ${JSON.stringify(net.messages.slice(-5))}; ` +
        `failed ${JSON.stringify(net.failed)}; console ${JSON.stringify(net.console.slice(-10))}`
      : '';
    throw new Error(`${page.url()} never connected its live stream: badge ${state}; ${detail}`, { cause: error });
  }
  return (await badge.getAttribute('data-role')) ?? '';
}

/** Saves a full-page screenshot under test-results/screenshots/. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  return file;
}

/** Calls a tRPC procedure as the context's signed-in user (the HTTP API a browser uses). */
export async function trpcCall<T = unknown>(
  context: BrowserContext,
  kind: 'query' | 'mutation',
  path: string,
  input?: unknown,
): Promise<T> {
  const body = input === undefined ? undefined : { json: input };
  const res =
    kind === 'mutation'
      ? await context.request.post(`/api/trpc/${path}`, { data: body ?? {}, headers: originHeader(context) })
      : await context.request.get(`/api/trpc/${path}${body ? `?input=${encodeURIComponent(JSON.stringify(body))}` : ''}`);
  const json = (await res.json()) as { result?: { data: { json: T } }; error?: unknown };
  if (!res.ok() || !json.result) throw new Error(`${path} failed: ${res.status()} ${JSON.stringify(json.error)}`);
  return json.result.data.json;
}
