/**
 * Child process of the article benchmark: the mutation workload. One actor
 * account per tenant (not one of the simulated users) calls the real tRPC API
 * with a tRPC client: order creations, status changes and stock adjustments,
 * at random (seeded) times and inputs, so both variants get the same
 * workload. Each mutation records the server's commit time (the timestamp the
 * server wrote with the change, returned in the response) and the keys it
 * changed (the response's `x-trpc-live-fence`, plus the notification the
 * server stores for a new or newly paid order).
 */
import { QueryClient } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, type TRPCLink } from '@trpc/client';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import Database from 'better-sqlite3';
import path from 'node:path';
import { observable } from '@trpc/server/observable';
import superjson from 'superjson';
import { readFence, type ChangedKey } from 'trpc-live/client';
import { parseCursor } from 'trpc-live/shared';
import type { AppRouter } from '../../src/server/routers/_app';
import { MAX_BATCH_SIZE } from '../../src/trpc/batchLimit';
import { createBrowserFetch, signIn, type BrowserFetch } from '../lib/browserFetch';
import { serveParent } from '../lib/child';
import { ACTOR_HEADER } from '../lib/requestCounting.mjs';
import { canonicalKey, TenantOracle } from './dataOracle';
import { PAGES } from './pages';
import { createRandom, type Random } from './random';
import { runTenantSchedule } from './schedule';

/** One mutation as the actor saw it. */
export interface MutationRecord {
  readonly tenant: string;
  readonly phase: string;
  readonly kind: 'create' | 'status' | 'stock';
  /** When the request was sent and its response arrived (actor's clock, ms since the epoch). */
  readonly sentAt: number;
  readonly respondedAt: number;
  /** The server's timestamp of the change (`createdAt`/`updatedAt` it wrote), or NaN when it failed. */
  readonly commitAt: number;
  /** What it changed: what the live layer matches queries against. */
  readonly keys: ChangedKey[];
  /**
   * The observed queries (canonical keys, dataOracle.ts) whose result differs after this mutation from
   * before it, read straight from the database: the oracle of which observers it affected. Absent when
   * the mutation failed.
   */
  readonly affected?: string[];
  /**
   * What the database held for each query of `affected` after this mutation (read before the tenant's next one): the digest
   * (digest.ts) of its JSON, by canonical key. How the benchmark recognizes pushed data that
   * reflects the commit (reflects.ts). Absent when the mutation failed.
   */
  readonly states?: Record<string, string>;
  /**
   * The lowest seq among the cursors of the response's fence (where its first publish landed in the
   * hub's history; a result frame reflecting any of its changes has a seq at or past it). Only for
   * the pushed variant's diagnostic split of its time to fresh data (pushPath.ts); no oracle trusts it.
   */
  readonly seq?: number;
  readonly error?: string;
}

interface TenantSpec {
  readonly id: string;
  readonly actor: string;
  readonly products: readonly string[];
  /** The orders the tenant's users' order-detail tabs show (what their queries read). */
  readonly observedOrders: readonly string[];
}

interface Actor {
  readonly tenant: TenantSpec;
  readonly net: BrowserFetch;
  readonly client: ReturnType<typeof createTRPCClient<AppRouter>>;
  /** Fence of the last mutation response (mutations of one actor run one at a time). */
  fence: ChangedKey[];
  /** Lowest seq of that fence's cursors (NaN when none). */
  fenceSeq: number;
  /** The data oracle over every query an observer of the tenant holds (dataOracle.ts). */
  readonly oracle: TenantOracle;
  /** Known orders (newest first) and their statuses. */
  orders: string[];
  readonly status: Map<string, string>;
  created: number;
}

const STATUSES = ['pending', 'paid', 'shipped', 'cancelled'] as const;
const actors: Actor[] = [];
/** Wall time inside the data oracle (withAffected) during the current phase, ms (on a shared core: its CPU and any wait for the core). */
let oracleMs = 0;
/** The process's CPU during those spans, µs (every thread; the spans are synchronous SQL and comparisons, plus microtasks between them). */
let oracleCpuUs = 0;
/** Read-only handle of the server's database (the data oracle's privileged path). */
let db: Database.Database | null = null;

async function start(message: { baseUrl: string; password: string; dataDir: string; tenants: TenantSpec[] }) {
  db = new Database(path.join(message.dataDir, 'app.db'), { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const read: string[] = [];
  for (const tenant of message.tenants) {
    const net = createBrowserFetch({ cookie: await signIn(message.baseUrl, tenant.actor, message.password), maxSockets: 1 });
    const holder: { actor?: Actor } = {};
    const fenceLink: TRPCLink<AppRouter> = () => ({ op, next }) =>
      observable((observer) =>
        next(op).subscribe({
          next(value) {
            if (op.type === 'mutation' && holder.actor) {
              const fence = readFence(value.context as Record<string, unknown>) ?? [];
              holder.actor.fence = fence.map((k) => (k.id === undefined ? { resource: k.resource } : { resource: k.resource, id: k.id }));
              const seqs = fence.flatMap((k) => {
                const seq = parseCursor(k.cursor)?.seq;
                return seq === undefined ? [] : [seq];
              });
              holder.actor.fenceSeq = seqs.length ? Math.min(...seqs) : NaN;
            }
            observer.next(value);
          },
          error: (error) => observer.error(error),
          complete: () => observer.complete(),
        }),
      );
    const client = createTRPCClient<AppRouter>({
      links: [
        fenceLink,
        // Marked, so the server-side request count (serverRequestCounter.mjs) tells the workload from the users' requests.
        httpBatchLink({ url: `${message.baseUrl}/api/trpc`, transformer: superjson, fetch: net.fetch, maxItems: MAX_BATCH_SIZE, headers: { [ACTOR_HEADER]: '1' } }),
      ],
    });
    // Setup (not measured): the tenant's orders and their statuses, to pick targets and know a transition to "paid".
    const list = await client.orders.list.query({ limit: 200 });
    // The keys exactly as the users' tabs build them (pages.ts), for every order a user of the tenant shows.
    const trpc = createTRPCOptionsProxy<AppRouter>({ client, queryClient: new QueryClient() });
    const keys = new Map<string, readonly unknown[]>();
    for (const orderId of tenant.observedOrders) {
      for (const page of PAGES) for (const q of page.queries(trpc, { orderId })) keys.set(canonicalKey(q.queryKey), q.queryKey);
    }
    const queryKeys = [...keys.values()];
    read.push(...keys.keys());
    const actor: Actor = {
      tenant,
      net,
      client,
      fence: [],
      fenceSeq: NaN,
      oracle: await TenantOracle.open(db, tenant.id, queryKeys),
      orders: list.map((o) => o.id),
      status: new Map(list.map((o) => [o.id, o.status])),
      created: 0,
    };
    holder.actor = actor;
    actors.push(actor);
  }
  // What each observed query held before any mutation: a pushed result may show that state (computed before the
  // first change it follows), which the freshness oracle must be able to place (reflects.ts: pushedMatches).
  const initial = Object.fromEntries(actors.map((a) => [a.tenant.id, a.oracle.initial]));
  return { type: 'started', read: [...new Set(read)], initial };
}

/**
 * The mutation's record, with the observed queries its change affected: read after its response (so after the
 * commit) and before the tenant's next send (schedule.ts says when).
 */
async function withAffected(actor: Actor, record: MutationRecord): Promise<MutationRecord> {
  if (!Number.isFinite(record.commitAt) || !db) return record;
  const began = performance.now();
  const cpu = process.cpuUsage();
  try {
    return { ...record, ...(await actor.oracle.next()) };
  } finally {
    oracleMs += performance.now() - began;
    const spent = process.cpuUsage(cpu);
    oracleCpuUs += spent.user + spent.system;
  }
}

async function mutate(actor: Actor, phase: string, random: Random): Promise<MutationRecord> {
  const kind = random.pick(['create', 'status', 'stock'] as const);
  const sentAt = Date.now();
  actor.fence = [];
  actor.fenceSeq = NaN;
  const base = { tenant: actor.tenant.id, phase, kind, sentAt };
  try {
    if (kind === 'create') {
      const count = random.int(1, 2);
      const products = random.sample(actor.tenant.products, count);
      const order = await actor.client.orders.create.mutate({
        customer: `Bench customer ${++actor.created}`,
        items: products.map((productId) => ({ productId, quantity: random.int(1, 3) })),
      });
      actor.orders.unshift(order.id);
      actor.status.set(order.id, order.status);
      // The server stores and publishes an "order created" notification too.
      return { ...base, respondedAt: Date.now(), commitAt: order.createdAt.getTime(), keys: [...actor.fence, { resource: 'notifications' }] };
    }
    if (kind === 'status') {
      const id = random.pick(actor.orders.slice(0, 20));
      const previous = actor.status.get(id);
      const status = random.pick(STATUSES);
      const order = await actor.client.orders.updateStatus.mutate({ id, status });
      actor.status.set(id, order.status);
      const notified = order.status === 'paid' && previous !== 'paid';
      return {
        ...base,
        respondedAt: Date.now(),
        commitAt: order.updatedAt.getTime(),
        keys: [...actor.fence, ...(notified ? [{ resource: 'notifications' }] : [])],
      };
    }
    const id = random.pick(actor.tenant.products);
    const delta = random.pick([-1, 1]) * random.int(1, 5);
    const product = await actor.client.products.adjustStock.mutate({ id, delta });
    return { ...base, respondedAt: Date.now(), commitAt: product.updatedAt.getTime(), keys: [...actor.fence] };
  } catch (error) {
    return { ...base, respondedAt: Date.now(), commitAt: NaN, keys: [], error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Runs one phase: for each tenant, mutations at exponentially distributed
 * intervals (mean 60 s / rate) for `durationMs`, one at a time per tenant.
 * Resolves when the duration is over and every mutation has its response
 * and its data oracle's read (schedule.ts).
 */
async function run(message: { phase: string; perMinute: number; durationMs: number; seed: number }) {
  const startedAt = Date.now();
  const cpuBefore = process.cpuUsage();
  oracleMs = 0;
  oracleCpuUs = 0;
  const records: MutationRecord[] = [];
  await Promise.all(
    actors.map(async (actor, i) => {
      const random = createRandom(message.seed * 1000 + i);
      if (message.perMinute <= 0) return;
      const meanGapMs = 60_000 / message.perMinute;
      await runTenantSchedule({
        startedAt,
        durationMs: message.durationMs,
        nextGap: () => random.exponential(meanGapMs),
        now: Date.now,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        mutate: async () => {
          const record = await mutate(actor, message.phase, random);
          // The fence's seq now: the next send resets it.
          return Number.isFinite(record.commitAt) && Number.isFinite(actor.fenceSeq) ? { ...record, seq: actor.fenceSeq } : record;
        },
        settle: (record) => withAffected(actor, record),
        records,
      });
    }),
  );
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const oracleSeconds = oracleMs / 1000;
  const oracleCpuSeconds = oracleCpuUs / 1e6;
  // The harness's own cost on the users' core (not in the report's tables): the actors' process CPU (every thread) and
  // the data oracle's CPU and wall time.
  console.log(`[actors] ${message.phase}: ${records.length} mutations, actors' CPU ${cpuSeconds.toFixed(2)} s, data oracle CPU ${oracleCpuSeconds.toFixed(2)} s (wall time ${oracleSeconds.toFixed(2)} s)`);
  const rest = startedAt + message.durationMs - Date.now();
  if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
  return { type: 'ran', records, cpuSeconds, oracleCpuSeconds, oracleSeconds };
}

function traffic() {
  let requests = 0;
  let bytesIn = 0;
  let bytesOut = 0;
  let sockets = 0;
  for (const actor of actors) {
    const t = actor.net.traffic();
    requests += t.queries + t.mutations;
    bytesIn += t.bytesIn;
    bytesOut += t.bytesOut;
    sockets += t.openSockets;
  }
  return { type: 'traffic', requests, bytesIn, bytesOut, sockets };
}

serveParent(async (message) => {
  switch (message.type) {
    case 'start':
      return start(message);
    case 'run':
      return run(message);
    case 'traffic':
      return traffic();
    case 'stop':
      for (const actor of actors) actor.net.destroy();
      db?.close();
      db = null;
      return { type: 'stopped' };
    default:
      throw new Error(`unknown message ${String(message.type)}`);
  }
});
