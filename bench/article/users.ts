/**
 * Child process of the article benchmark: simulated browsers, each a signed-in
 * user with the app's six live pages open in six tabs. Every tab is what the
 * app builds in src/trpc/react.tsx: its own TanStack QueryClient
 * (makeQueryClient) and tRPC client, with QueryObservers for the page's
 * queries. Variant `live`: the real liveLink + LiveInvalidator per tab (with no
 * watch call: invalidate, then refetch, as before pushed results) and ONE
 * stream per browser through createSharedLiveStream (an in-process lock
 * stands in for Web Locks; Node's BroadcastChannel relays to the other tabs).
 * Variant `pushed`: the same, and the browser watches the pushable queries
 * its tabs hold and applies the results the server pushes.
 * Variant `polling`: no stream; a timer per tab refetches all its queries
 * every `pollMs` (one batched request; the article's "before"), in the
 * background too, as the article's `setInterval` does. Variant
 * `polling-visible`: TanStack's own polling (only the tab on screen polls;
 * a tab brought to the front refetches). Network: one pooled, counting
 * `fetch` per browser (bench/lib/browserFetch.ts). Driven over IPC by
 * bench/article/index.ts.
 *
 * What the user sees: exactly one tab per browser is on screen; the user
 * brings another to the front on a seeded schedule (the same in every
 * variant). Each tab has its own page visibility (bench/article/tabPage.ts),
 * which its invalidator follows (a hidden tab only marks changed queries
 * stale and refetches them when shown) and which the shared stream watches
 * (it pauses the connection once every tab has been hidden for a while).
 */
import './browserGlobals';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { QueryClient } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, type TRPCLink } from '@trpc/client';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import { EventSource } from 'eventsource';
import superjson from 'superjson';
import { createLiveInvalidator, liveLink, type LiveInvalidator, type LiveWatchRequest } from 'trpc-live/client';
import { createSharedLiveStream, type SharedLiveStream } from 'trpc-live/react';
import type { AppRouter } from '../../src/server/routers/_app';
import { MAX_BATCH_SIZE } from '../../src/trpc/batchLimit';
import { makeQueryClient } from '../../src/trpc/queryClient';
import { createBrowserFetch, signIn, type BrowserFetch, type BrowserTraffic } from '../lib/browserFetch';
import { serveParent } from '../lib/child';
import { browserRegistry } from './missedInvalidation';
import { PAGES } from './pages';
import type { PlannedSwitch, SwitchRecord } from './switches';
import { createTabLocks } from './tabLocks';
import { createTabPage, type TabPage } from './tabPage';
import { pollEveryTab, pollTabOnScreen, applyTanStackPollingDefaults } from './polling';
import type { FrameRecord } from './pushPath';
import type { ObserverUpdate } from './reflects';
import { DigestQueue, observeTabQueries } from './tabQueries';
import { isLive, type Variant } from './variants';

export type { Variant } from './variants';

/** One simulated user, as the orchestrator assigns them. */
export interface UserSpec {
  readonly tenant: string;
  readonly email: string;
  /** The order the user's order-detail tab shows. */
  readonly orderId: string;
  /** When each of the six tabs opens, in ms after start (spreads the first loads and the poll phases). */
  readonly tabDelaysMs: readonly number[];
  /** The tab (index into PAGES) on screen when the browser opens; the other five are in the background. */
  readonly initialTab: number;
  /** When the user brings another tab to the front (ms after the orchestrator's `switch` message). */
  readonly switches: readonly PlannedSwitch[];
}

/**
 * Every data update an observer saw: [fetch started (PUSHED for data set
 * from a pushed result), observer held the data (ms since the epoch), 1 if
 * the data differed from what it held before, else 0, digest of pushed data]
 * (ObserverUpdate in reflects.ts).
 */
export interface ObserverLog {
  readonly tenant: string;
  readonly user: number;
  readonly page: string;
  /** Index of the observer's tab (its page in PAGES). */
  readonly tab: number;
  readonly queryKey: readonly unknown[];
  readonly updates: ObserverUpdate[];
}

interface Tab {
  readonly index: number;
  readonly page: string;
  readonly visibility: TabPage;
  readonly queryClient: QueryClient;
  readonly invalidator: LiveInvalidator | null;
  readonly unsubscribes: Array<() => void>;
  shared: SharedLiveStream | null;
  loaded: number;
  readonly expected: number;
}

interface Browser {
  readonly index: number;
  readonly spec: UserSpec;
  readonly net: BrowserFetch;
  readonly tabs: Tab[];
  /** The tab on screen (index into PAGES). */
  visible: number;
}

/**
 * Pushed variant: when each result/delta/refetch frame first reached each browser (its stream's tab). Per browser,
 * the highest seq recorded for each `kind|watch`: a later copy of a frame (another tab's relay) or a frame with a
 * lower seq arriving after one with a higher seq is not recorded; pushPath.ts matches a change with the first frame
 * in arrival order with a seq at or past it, which is then always the earlier one (seqs only grow within the server's
 * epoch, and a run's server keeps one). (Was a Set of every
 * `kind|watch|seq|browser` string, built in every tab for every message: 2% of a users' process's CPU at heavy.)
 */
const frameSeen = new WeakMap<Browser, Map<string, number>>();
const frames: FrameRecord[] = [];

const browsers: Browser[] = [];
/**
 * This process's event-loop delay (10 ms resolution), reset at each phase: a frame or response that
 * arrives while the loop is busy with other simulated tabs waits this long, which no real browser
 * (one process per tab) would; the report flags phases where it is large.
 */
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
/**
 * JSON and digests of the tabs' data writes, computed while this process is idle (tabQueries.ts): the
 * freshness oracle's work, kept out of the times it measures. Drained before the logs are sent.
 */
const digests = new DigestQueue();
/** The app's registry, or a copy missing one query when the benchmark itself is being checked (missedInvalidation.ts). */
const registry = browserRegistry();
const logs: ObserverLog[] = [];
const switchLog: SwitchRecord[] = [];
const switchTimers: ReturnType<typeof setTimeout>[] = [];
let variant: Variant = 'live';
let pauseAfterMs = 3_000;

function openTab(browser: Browser, pageIndex: number, baseUrl: string, pollMs: number): Tab {
  const page = PAGES[pageIndex]!;
  const url = `${baseUrl}/api/trpc`;
  const queryClient = makeQueryClient();
  if (variant === 'polling-visible') applyTanStackPollingDefaults(queryClient);
  const visibility = createTabPage(pageIndex === browser.visible);
  const invalidator = isLive(variant) ? createLiveInvalidator({ queryClient, registry, visibility }) : null;
  const net = browser.net;
  class BrowserEventSource extends EventSource {
    constructor(target: string | URL, init?: EventSourceInit) {
      super(target, { ...init, fetch: net.fetch });
    }
  }
  const links: TRPCLink<AppRouter>[] = [
    ...(invalidator ? [liveLink<AppRouter>({ invalidator })] : []),
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: httpSubscriptionLink({ url, transformer: superjson, EventSource: BrowserEventSource }),
      false: httpBatchLink({ url, transformer: superjson, fetch: net.fetch, maxItems: MAX_BATCH_SIZE }),
    }),
  ];
  const client = createTRPCClient<AppRouter>({ links });
  // (d): the app's watch call (src/trpc/react.tsx), as `<LiveProvider watch>` hands it to the invalidator: the tab watches the pushable
  // queries it holds (on the browser's one shared connection, with its own holder id) and applies pushed results.
  if (variant === 'pushed') invalidator?.watchWith((request: LiveWatchRequest) => client.live.watch.mutate(request));
  const trpc = createTRPCOptionsProxy<AppRouter>({ client, queryClient });
  const queries = page.queries(trpc, { orderId: browser.spec.orderId });
  const tab: Tab = { index: pageIndex, page: page.name, visibility, queryClient, invalidator, unsubscribes: [], shared: null, loaded: 0, expected: queries.length };

  const observed = queries.map((options) => {
    const log: ObserverLog = { tenant: browser.spec.tenant, user: browser.index, page: page.name, tab: pageIndex, queryKey: options.queryKey, updates: [] };
    logs.push(log);
    return { options, updates: log.updates };
  });
  tab.unsubscribes.push(observeTabQueries(queryClient, observed, () => tab.loaded++, digests));
  if (variant === 'polling') tab.unsubscribes.push(pollEveryTab(queryClient, pollMs));
  if (variant === 'polling-visible') tab.unsubscribes.push(pollTabOnScreen(queryClient, visibility, pollMs));

  if (invalidator && variant === 'pushed') {
    // The first tab to get a frame is the one holding the stream; the others get the leader's relay after it.
    tab.unsubscribes.push(
      invalidator.subscribe((message) => {
        if (message.kind !== 'result' && message.kind !== 'delta' && message.kind !== 'refetch') return;
        let seen = frameSeen.get(browser);
        if (!seen) frameSeen.set(browser, (seen = new Map()));
        const id = `${message.kind}|${message.watch}`;
        if ((seen.get(id) ?? -1) >= message.seq) return;
        seen.set(id, message.seq);
        frames.push({ user: browser.index, kind: message.kind, watch: message.watch, seq: message.seq, at: Date.now() });
      }),
    );
  }

  if (invalidator) {
    tab.shared = createSharedLiveStream({
      name: `bench:${browser.spec.tenant}:${browser.spec.email}`,
      invalidator,
      locks: browserLocks.get(browser)!,
      // Node's BroadcastChannel relays between the tabs of this process, as a browser's does between its tabs.
      channel: (name) => new BroadcastChannel(name) as never,
      document: visibility,
      window: null,
      open: (lastEventId, events) =>
        client.live.stream.subscribe(lastEventId ? { lastEventId } : undefined, {
          onConnectionStateChange(connection) {
            if (connection.state === 'connecting') events.disconnected();
          },
          onError(error) {
            events.disconnected();
            console.warn(`[users] ${browser.spec.email}: stream stopped: ${error.message}`);
          },
        }),
      setPaused: (connectionId, paused) =>
        paused ? client.live.pause.mutate({ connectionId }) : client.live.resume.mutate({ connectionId }),
      pauseAfterMs,
    });
  }
  return tab;
}

const browserLocks = new WeakMap<Browser, ReturnType<typeof createTabLocks>>();

async function start(message: {
  baseUrl: string;
  variant: Variant;
  pollMs: number;
  /** The shared stream's pause delay (the app's default, compressed like every other interval). */
  pauseAfterMs: number;
  password: string;
  users: UserSpec[];
  offset: number;
}) {
  pauseAfterMs = message.pauseAfterMs;
  variant = message.variant;
  // Sign in a few at a time (scrypt on the server); not part of any measured window.
  const cookies: string[] = new Array(message.users.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: 5 }, async () => {
      while (next < message.users.length) {
        const i = next++;
        cookies[i] = await signIn(message.baseUrl, message.users[i]!.email, message.password);
      }
    }),
  );
  const opening: Promise<void>[] = [];
  message.users.forEach((spec, i) => {
    const browser: Browser = { index: message.offset + i, spec, net: createBrowserFetch({ cookie: cookies[i]! }), tabs: [], visible: spec.initialTab };
    browserLocks.set(browser, createTabLocks());
    browsers.push(browser);
    switchLog.push({ user: browser.index, tenant: spec.tenant, at: Date.now(), from: -1, to: spec.initialTab });
    PAGES.forEach((_, p) => {
      opening.push(
        new Promise<void>((resolve) =>
          setTimeout(() => {
            browser.tabs.push(openTab(browser, p, message.baseUrl, message.pollMs));
            resolve();
          }, spec.tabDelaysMs[p] ?? 0),
        ),
      );
    });
  });
  await Promise.all(opening);
  return { type: 'started' };
}

/**
 * Brings tab `to` to the front: it is shown, then the tab that was on screen
 * is hidden, in one synchronous step (a browser's tab switch). Either order
 * leaves one tab visible; when the old one is the stream's leader, it sees
 * itself hidden before the new tab's message arrives, so the shared stream
 * pauses and resumes the connection around the switch (as it would in a
 * browser; those calls count as the browser's requests).
 */
function switchTo(browser: Browser, to: number, logged = true): void {
  const from = browser.visible;
  if (from === to) return;
  const next = browser.tabs.find((t) => t.index === to);
  const previous = browser.tabs.find((t) => t.index === from);
  browser.visible = to;
  if (logged) switchLog.push({ user: browser.index, tenant: browser.spec.tenant, at: Date.now(), from, to });
  next?.visibility.setVisible(true);
  previous?.visibility.setVisible(false);
}

/**
 * Warm-up, not measured: every user shows each of its tabs once, then the one
 * it started on, so after the warm-up's changes no tab starts the first phase
 * stale (a hidden live tab refetches what it missed when shown). Not in the
 * switch log.
 */
async function tour() {
  const pause = () => new Promise((resolve) => setTimeout(resolve, 50));
  for (let step = 0; step <= PAGES.length; step++) {
    for (const browser of browsers) switchTo(browser, step < PAGES.length ? step : browser.spec.initialTab, false);
    await pause();
  }
  return { type: 'toured' };
}

/** Starts every user's switch schedule (times are relative to now). */
function beginSwitches() {
  for (const browser of browsers) {
    for (const planned of browser.spec.switches) switchTimers.push(setTimeout(() => switchTo(browser, planned.tab), planned.atMs));
  }
  return { type: 'switching' };
}

/** True once every tab holds its first data and, when live, every browser's stream said hello (pushed: every tab holding a pushable query sent its watches). */
function ready(): { type: string; ready: boolean; loaded: number; expected: number; connected: number; leaders: number; watching: number } {
  let loaded = 0;
  let expected = 0;
  let connected = 0;
  let leaders = 0;
  let watching = 0;
  for (const browser of browsers) {
    let browserConnected = false;
    for (const tab of browser.tabs) {
      loaded += tab.loaded;
      expected += tab.expected;
      // A tab watches once it sent its first watch call; one holding no pushable query has nothing to send.
      const sync = tab.invalidator?.watchSync;
      if (!sync || [...sync.allQueries()].length === 0 || (tab.invalidator?.watchStats.requests ?? 0) > 0) watching++;
      const status = tab.shared?.status();
      if (status?.role === 'leader' || status?.role === 'standalone') {
        leaders++;
        if (status.connected) browserConnected = true;
      }
    }
    if (browserConnected) connected++;
  }
  const allTabs = browsers.every((b) => b.tabs.length === PAGES.length);
  const watched = variant !== 'pushed' || watching === browsers.length * PAGES.length;
  const ok = allTabs && loaded === expected && (!isLive(variant) || connected === browsers.length) && watched;
  return { type: 'ready', ready: ok, loaded, expected, connected, leaders, watching };
}

function snapshot() {
  // At a phase boundary: the phase's writes are settled on its own CPU figure.
  digests.drain();
  const sum: BrowserTraffic = { queries: 0, mutations: 0, streams: 0, queryCalls: 0, bytesIn: 0, bytesOut: 0, openSockets: 0, peakSockets: 0, socketsOpened: 0, resent: 0 };
  const socketsPerUser: number[] = [];
  const peakPerUser: number[] = [];
  const invalidations = { applied: 0, duplicates: 0, flushes: 0, resets: 0, deferred: 0, shown: 0 };
  const pushed = { results: 0, staleResults: 0, held: 0, releasedByResult: 0, releasedByRefetch: 0, timeouts: 0, watchRequests: 0, watchFailures: 0 };
  let leaders = 0;
  for (const browser of browsers) {
    const t = browser.net.traffic();
    for (const key of Object.keys(sum) as Array<keyof BrowserTraffic>) sum[key] += t[key];
    socketsPerUser.push(t.openSockets);
    peakPerUser.push(t.peakSockets);
    for (const tab of browser.tabs) {
      const stats = tab.invalidator?.stats;
      if (stats) for (const key of Object.keys(invalidations) as Array<keyof typeof invalidations>) invalidations[key] += stats[key];
      if (tab.invalidator) {
        const p = tab.invalidator.pushedStats;
        for (const key of ['results', 'staleResults', 'held', 'releasedByResult', 'releasedByRefetch', 'timeouts'] as const) pushed[key] += p[key];
        pushed.watchRequests += tab.invalidator.watchStats.requests;
        pushed.watchFailures += tab.invalidator.watchStats.failures;
      }
      const role = tab.shared?.status().role;
      if (role === 'leader' || role === 'standalone') leaders++;
    }
  }
  const cpu = process.cpuUsage();
  // Event-loop delay since the phase began (ns in the histogram): how long a frame or a response waited for this process.
  const loop = { p99Ms: loopDelay.count ? loopDelay.percentile(99) / 1e6 : NaN, maxMs: loopDelay.count ? loopDelay.max / 1e6 : NaN };
  return { type: 'snapshot', at: Date.now(), traffic: sum, socketsPerUser, peakPerUser, invalidations, pushed, leaders, loop, digests: { ...digests.stats }, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

function stop() {
  for (const timer of switchTimers) clearTimeout(timer);
  digests.stop();
  for (const browser of browsers) {
    for (const tab of browser.tabs) {
      tab.shared?.close();
      tab.invalidator?.dispose();
      for (const unsubscribe of tab.unsubscribes) unsubscribe();
      tab.queryClient.clear();
    }
    browser.net.destroy();
  }
  return { type: 'stopped' };
}

serveParent(async (message) => {
  switch (message.type) {
    case 'start':
      return start(message);
    case 'ready':
      return ready();
    case 'snapshot':
      return snapshot();
    case 'resetPeak':
      for (const browser of browsers) browser.net.resetPeak();
      loopDelay.reset();
      return { type: 'peakReset' };
    case 'tour':
      return tour();
    case 'switch':
      return beginSwitches();
    case 'observations':
      // Every write's `changed` flag and digest, before anyone reads the logs.
      digests.drain();
      return { type: 'observations', logs, switches: switchLog, frames };
    case 'stop':
      return stop();
    default:
      throw new Error(`unknown message ${String(message.type)}`);
  }
});
