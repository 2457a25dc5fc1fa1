/**
 * The real thing: two production app instances (`node dist/main.js`) on two
 * ports, one SQLite data folder and one Redis, as behind a load balancer.
 * Clients use the unchanged `httpSubscriptionLink` (eventsource@4), so the
 * stream may be served by the fast transport or the stock route.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LiveMessage } from 'trpc-live/core';
import { sessionCookieFor } from '../helpers/app';
import { createNodeClient } from '../helpers/client';
import { startProductionServer, type ProductionServer } from '../helpers/prodServer';
import { redisServerBinary, startRedis, type TestRedis } from '../helpers/redis';
import { describeWithService } from '../helpers/services';
import { waitFor } from '../helpers/wait';


type Client = ReturnType<typeof createNodeClient>;
type Received = { message: LiveMessage; id?: string; at: number };

/** Subscribes to the live stream and records what arrives, with arrival times; resolves once the hello arrived. */
async function listen(client: Client, input?: { lastEventId?: string }) {
  const received: Received[] = [];
  let onHello!: () => void;
  const ready = new Promise<void>((resolve) => (onHello = resolve));
  const waiters: Array<() => void> = [];
  const subscription = client.live.stream.subscribe(input, {
    onData(value) {
      const tracked = value as unknown as { id?: string; data?: LiveMessage };
      const message = (tracked.id ? tracked.data : value) as LiveMessage;
      received.push({ message, at: performance.now(), ...(tracked.id ? { id: tracked.id } : {}) });
      if (message.kind === 'hello') onHello();
      for (const wake of waiters.splice(0)) wake();
    },
  });
  await ready;
  const data = () => received.filter((r) => r.message.kind !== 'hello' && r.message.kind !== 'reconnect');
  return {
    data,
    /** Invalidations of `resource` in arrival order (`<id>`), resets as `reset:<reason>`. */
    keys: (resource: string) =>
      data().flatMap((r) =>
        r.message.kind === 'reset'
          ? [`reset:${r.message.reason}`]
          : r.message.kind === 'invalidate' && r.message.resource === resource
            ? [r.message.id ?? '*']
            : [],
      ),
    lastCursor: () => data().at(-1)?.id,
    /** Resolves once `condition` holds, re-checked at every message; rejects after `ms`. */
    until: (condition: () => boolean, what: string, ms = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
        const check = () => {
          if (condition()) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        check();
      }),
    stop: () => subscription.unsubscribe(),
  };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

type Listener = Awaited<ReturnType<typeof listen>>;

/**
 * What a client applied: `event:<title>` for notification events, `orders:<id>` for order
 * invalidations, `reset` for resets. The oracle for issue 20: a client applies each at most once.
 */
function appliedBy(listener: Listener): string[] {
  return listener.data().flatMap(({ message }) => {
    if (message.kind === 'reset') return ['reset'];
    if (message.kind === 'event' && message.topic === 'notifications') return [`event:${(message.data as { title: string }).title}`];
    if (message.kind === 'invalidate' && message.resource === 'orders' && message.id) return [`orders:${message.id}`];
    return [];
  });
}

/** Records a mutation's expectations: its order's invalidation and notification, and each client's resets before it. */
interface Made {
  readonly orderId: string;
  readonly title: string;
  readonly resetsBefore: readonly number[];
}

/** No client applied anything twice, and each holds every order made (its invalidation and its notification) or a reset after it. */
function expectExactlyOnce(listeners: readonly Listener[], made: readonly Made[]): void {
  listeners.forEach((listener, i) => {
    const items = appliedBy(listener);
    const counts = new Map<string, number>();
    for (const item of items) if (item !== 'reset') counts.set(item, (counts.get(item) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1).map(([item, n]) => `${item} x${n}`);
    expect(twice, `client ${i} applied these more than once`).toEqual([]);
    const resets = items.filter((item) => item === 'reset').length;
    for (const { orderId, title, resetsBefore } of made) {
      const reset = resets > resetsBefore[i]!;
      expect(counts.has(`orders:${orderId}`) || reset, `client ${i}: order ${orderId} neither arrived nor was covered by a reset`).toBe(true);
      expect(counts.has(`event:${title}`) || reset, `client ${i}: notification "${title}" neither arrived nor was covered by a reset`).toBe(true);
    }
  });
}

describeWithService('redis-server', redisServerBinary, 'two production instances on one Redis', () => {
  let redis: TestRedis;
  let dataDir: string;
  let a: ProductionServer;
  let b: ProductionServer;
  let alice: { a: Client; b: Client };
  let bobCookie: string;
  const open: Array<{ stop(): void }> = [];
  const subscriber = async (server: ProductionServer, input?: { lastEventId?: string }) => {
    const listener = await listen(createNodeClient(server.url, bobCookie), input);
    open.push(listener);
    return listener;
  };
  const createOrder = (client: Client, customer: string) =>
    client.orders.create.mutate({ customer, items: [{ productId: 'prd_acme_4', quantity: 1 }] });

  beforeAll(async () => {
    redis = await startRedis();
    dataDir = mkdtempSync(path.join(tmpdir(), 'trpc-live-redis-e2e-'));
    // No drain grace: the last test measures how long a drain takes after a Redis fault.
    const env = { LIVE_REDIS_URL: redis.url, DATA_DIR: dataDir, LIVE_DRAIN_GRACE_MS: '0' };
    // One after the other: the first migrates and seeds the shared database.
    a = await startProductionServer(env);
    b = await startProductionServer(env);
    const aliceCookie = await sessionCookieFor('alice@acme.test');
    alice = { a: createNodeClient(a.url, aliceCookie), b: createNodeClient(b.url, aliceCookie) };
    bobCookie = await sessionCookieFor('bob@acme.test');
    // Enough stock for every order the tests create.
    await alice.a.products.adjustStock.mutate({ id: 'prd_acme_4', delta: 1000 });
  }, 600_000);

  afterAll(async () => {
    for (const listener of open) listener.stop();
    await Promise.all([a, b].filter(Boolean).map((server) => server.stop('SIGKILL')));
    await redis?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('joins one shared history on both instances and reports it in /api/health', async () => {
    const epochOf = (server: ProductionServer) => /\[live:redis\] connected: shared epoch (\S+)/.exec(server.output())?.[1];
    expect(epochOf(a)).toBeDefined();
    expect(epochOf(a)).toBe(epochOf(b));
    const health = (await (await fetch(`${b.url}/api/health`)).json()) as { status: string; backend: { name: string; ok: boolean } };
    expect(health).toMatchObject({ status: 'ok', backend: { name: 'redis', ok: true } });
  });

  it('delivers a mutation on A to a subscriber on B, 500 times in a row (prints publish-to-receive p50/p99)', async () => {
    const onA = await subscriber(a);
    const onB = await subscriber(b);
    const count = (l: typeof onA) => l.keys('products').filter((k) => k === 'prd_acme_2').length;
    const cross: number[] = [];
    const local: number[] = [];
    const roundTrip: number[] = [];
    for (let i = 1; i <= 500; i++) {
      const started = performance.now();
      await alice.a.products.adjustStock.mutate({ id: 'prd_acme_2', delta: 1 });
      roundTrip.push(performance.now() - started);
      await onB.until(() => count(onB) >= i, `signal ${i} on B`);
      await onA.until(() => count(onA) >= i, `signal ${i} on A`);
      const arrival = (l: typeof onA) => l.data().filter((r) => r.message.kind === 'invalidate' && r.message.id === 'prd_acme_2')[i - 1]!.at;
      cross.push(arrival(onB) - started);
      local.push(arrival(onA) - started);
    }
    expect(count(onB)).toBe(500);
    const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);
    const [c, l, r] = [sorted(cross), sorted(local), sorted(roundTrip)];
    console.log(
      `[e2e redis] mutation on A → subscriber on B, 500 signals: p50 ${percentile(c, 50).toFixed(1)} ms, p99 ${percentile(c, 99).toFixed(1)} ms` +
        ` | subscriber on A (same instance): p50 ${percentile(l, 50).toFixed(1)} ms, p99 ${percentile(l, 99).toFixed(1)} ms` +
        ` | mutation round trip: p50 ${percentile(r, 50).toFixed(1)} ms, p99 ${percentile(r, 99).toFixed(1)} ms`,
    );
  }, 180_000);

  it('replays to a client that moved from A to B exactly the keys of the 20 signals published while it was away', async () => {
    for (let have = (await alice.a.orders.list.query({ limit: 40 })).length; have < 21; have++) {
      await createOrder(alice.a, `Replay ${have}`);
    }
    const orders = (await alice.a.orders.list.query({ limit: 40 })).map((o) => o.id);
    const mover = await subscriber(a);
    await alice.a.orders.updateStatus.mutate({ id: orders[20]!, status: 'shipped' });
    await mover.until(() => mover.keys('orders').includes(orders[20]!), 'the signal before leaving');
    const cursor = mover.lastCursor()!;
    mover.stop();
    const missed = orders.slice(0, 20);
    for (const [i, id] of missed.entries()) {
      // Half of them on each instance: history is shared.
      await (i % 2 ? alice.a : alice.b).orders.updateStatus.mutate({ id, status: i % 3 ? 'shipped' : 'cancelled' });
    }
    const moved = await subscriber(b, { lastEventId: cursor });
    await moved.until(() => moved.keys('orders').length >= 20, '20 replayed keys');
    // A live signal after the replay marks the end: nothing else may have come in between.
    await alice.a.orders.updateStatus.mutate({ id: orders[20]!, status: 'pending' });
    await moved.until(() => moved.keys('orders').length >= 21, 'the live signal after the replay');
    expect(moved.keys('orders')).toEqual([...missed, orders[20]]);
    expect(moved.data()).toHaveLength(21);
  });

  it('delivers what the publisher script (no HTTP server, publish-only) publishes to clients of both instances', async () => {
    const onA = await subscriber(a);
    const onB = await subscriber(b);
    const before = await alice.b.products.byId.query({ id: 'prd_acme_3' });
    const script = spawn(process.execPath, ['--import', 'tsx', 'scripts/publish.ts', 'restock', 'acme', 'prd_acme_3', '7'], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: { ...process.env, LIVE_REDIS_URL: redis.url, DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    script.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    script.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => script.once('exit', resolve));
    expect(code, output).toBe(0);
    await onA.until(() => onA.keys('products').includes('prd_acme_3'), 'the script signal on A');
    await onB.until(() => onB.keys('products').includes('prd_acme_3'), 'the script signal on B');
    expect((await alice.a.products.byId.query({ id: 'prd_acme_3' })).stock).toBe(before.stock + 7);
  }, 60_000);

  it("streams a CSV import's progress and completion, run by A's background worker, to a client on B", async () => {
    const onB = await subscriber(b);
    const rows = Array.from({ length: 600 }, (_, i) => `Import customer ${i},ACM-PACK,1`);
    const record = await alice.a.imports.start.mutate({ fileName: 'cross.csv', csv: ['customer,sku,quantity', ...rows].join('\n') });
    const key = `imports.${record.id}`;
    const progress = () => onB.data().flatMap((r) => (r.message.kind === 'progress' && r.message.key === key ? [r.message] : []));
    await onB.until(() => onB.data().some((r) => r.message.kind === 'complete' && r.message.key === key), 'the completion on B', 30_000);
    // Progress is coalesced (the completion may overtake it), but its final value always arrives.
    await onB.until(() => progress().at(-1)?.current === 600, 'the final progress on B', 5_000);
    expect(progress().at(-1)).toMatchObject({ current: 600, total: 600 });
    expect(onB.data().find((r) => r.message.kind === 'complete')!.message).toMatchObject({ ok: true, extra: { imported: 600 } });
  }, 60_000);

  it('keeps local delivery through a Redis crash, resumes cross-instance delivery after restart and resets gapped clients', async () => {
    const onA = await subscriber(a);
    const onB = await subscriber(b);
    const first = await createOrder(alice.a, 'Before the crash');
    await onB.until(() => onB.keys('orders').includes(first.id), 'the first order on B');

    // Counted, not searched: a fallback earlier in the run (a loaded machine) must not pass for this one.
    const unreachable = (server: ProductionServer) => server.output().split('Redis unreachable').length - 1;
    const before = [unreachable(a), unreachable(b)];
    await redis.kill();
    await waitFor(() => unreachable(a) > before[0]! && unreachable(b) > before[1]!, 'both instances to notice', 15_000);
    const health = (await (await fetch(`${a.url}/api/health`)).json()) as { status: string; backend: { ok: boolean; detail: string } };
    expect(health).toMatchObject({ status: 'degraded', backend: { ok: false, detail: expect.stringMatching(/unreachable/) } });

    // Local delivery never stops: every order made on A while Redis is down reaches A's client.
    const during: string[] = [];
    for (let i = 0; i < 10; i++) {
      const order = await createOrder(alice.a, `During the outage ${i}`);
      during.push(order.id);
      await onA.until(() => onA.keys('orders').includes(order.id), `order ${i} on A during the outage`);
    }
    const onB2 = await createOrder(alice.b, 'On B during the outage');
    await onB.until(() => onB.keys('orders').includes(onB2.id), "B's own order on B during the outage");
    expect(onB.keys('orders').filter((id) => during.includes(id))).toEqual([]);
    expect(onA.keys('orders')).not.toContain(onB2.id);

    await redis.restart();
    const back = (server: ProductionServer) => server.output().split('Redis is back').length - 1;
    await waitFor(() => back(a) >= before[0]! + 1 && back(b) >= before[1]! + 1, 'both instances to rejoin', 15_000);
    // Clients that may have missed something get a reset.
    await onA.until(() => onA.keys('orders').includes('reset:gap'), 'the reset on A');
    await onB.until(() => onB.keys('orders').includes('reset:gap'), 'the reset on B');
    // Cross-instance delivery resumes, both ways.
    const fromA = await createOrder(alice.a, 'After the restart (A)');
    const fromB = await createOrder(alice.b, 'After the restart (B)');
    await onB.until(() => onB.keys('orders').includes(fromA.id), "A's order on B after the restart");
    await onA.until(() => onA.keys('orders').includes(fromB.id), "B's order on A after the restart");

    // Both processes are still up and healthy.
    expect([a.child.exitCode, b.child.exitCode]).toEqual([null, null]);
    for (const server of [a, b]) {
      const after = (await (await fetch(`${server.url}/api/health`)).json()) as { status: string };
      expect(after.status).toBe('ok');
    }
    expect(a.output() + b.output()).not.toMatch(/unhandled|UnhandledPromiseRejection/i);
  }, 120_000);
  /** Creates an order through `client` and records what each listener must apply once. */
  const madeBy = async (client: Client, customer: string, listeners: readonly Listener[], made: Made[]) => {
    const resetsBefore = listeners.map((l) => appliedBy(l).filter((item) => item === 'reset').length);
    const started = performance.now();
    const order = await createOrder(client, customer);
    const ms = performance.now() - started;
    made.push({ orderId: order.id, title: `Order #${order.number} from ${customer}`, resetsBefore });
    return ms;
  };
  /** Rejoins both instances logged so far. */
  const rejoins = () => (a.output() + b.output()).split('Redis is back').length - 1;
  const healthOf = async (server: ProductionServer) =>
    ((await (await fetch(`${server.url}/api/health`)).json()) as { status: string }).status;

  it('applies every notification and invalidation once on clients of both instances when Redis freezes while mutations flow through both (issue 20)', async () => {
    const listeners = [await subscriber(a), await subscriber(b), await subscriber(a), await subscriber(b)];
    const made: Made[] = [];
    const normal: number[] = [];
    for (let i = 0; i < 4; i++) normal.push(await madeBy(i % 2 ? alice.b : alice.a, `Before the freeze ${i}`, listeners, made));

    const rejoined = rejoins();
    redis.freeze();
    const frozenAt = performance.now();
    // A mutation through A at once: its first publish meets the frozen Redis (the 80 ms deadline).
    const frozen: number[] = [await madeBy(alice.a, 'During the freeze, first', listeners, made)];
    // B publishes nothing: its health turns degraded within 1 s all the same (the PING).
    let degradedAfter = Infinity;
    while ((await healthOf(b)) !== 'degraded') {
      if (performance.now() - frozenAt > 5000) throw new Error('health of B still not degraded 5 s after the freeze');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    degradedAfter = performance.now() - frozenAt;
    expect(await healthOf(a)).toBe('degraded');
    // More mutations through both instances while Redis does not answer: none waits on it.
    for (let i = 0; i < 6; i++) frozen.push(await madeBy(i % 2 ? alice.b : alice.a, `During the freeze ${i}`, listeners, made));
    // Past the default command timeout (2 s), as in the incident (7 s).
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 2500 - (performance.now() - frozenAt))));
    redis.thaw();
    await waitFor(() => rejoins() >= rejoined + 2, 'both instances to rejoin', 15_000);
    for (let i = 0; i < 2; i++) await madeBy(i % 2 ? alice.b : alice.a, `After the freeze ${i}`, listeners, made);
    const last = made.slice(-2);
    for (const listener of listeners) {
      await listener.until(() => last.every((m) => appliedBy(listener).includes(`orders:${m.orderId}`)), 'the orders made after the thaw');
    }
    // Late copies (commands Redis ran once thawed, forwarded signals) have had time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expectExactlyOnce(listeners, made);
    console.log(
      `[e2e redis] freeze: health of B (publishing nothing) degraded after ${degradedAfter.toFixed(0)} ms; ` +
        `mutation round trip before ${normal.map((ms) => ms.toFixed(0)).join(', ')} ms, during ${frozen.map((ms) => ms.toFixed(0)).join(', ')} ms`,
    );
    expect(degradedAfter).toBeLessThan(1000);
    // The publish deadline is 80 ms; a mutation also does its own work (measured before: 23-50 ms on a loaded
    // machine; during: the first ~110 ms, the others as before; before issue 20 each took 2 s or more).
    // Room for a loaded CI machine.
    for (const ms of frozen) expect(ms).toBeLessThan(1000);
  }, 60_000);

  it('applies every notification and invalidation once on clients of both instances when Redis stops, restarts empty, and is killed during a flow of mutations (issue 20)', async () => {
    const listeners = [await subscriber(a), await subscriber(b)];
    const made: Made[] = [];
    await madeBy(alice.a, 'Before the stop', listeners, made);
    const rejoined = rejoins();
    await redis.stop();
    for (let i = 0; i < 4; i++) await madeBy(i % 2 ? alice.b : alice.a, `While stopped ${i}`, listeners, made);
    await redis.restart();
    await waitFor(() => rejoins() >= rejoined + 2, 'both instances to rejoin', 15_000);
    // Mutations flow through both instances, one after the other (the instances share one SQLite file);
    // Redis is killed while they do, then restarted empty.
    let flowing = true;
    const flow = (async () => {
      for (let i = 0; flowing && i < 200; i++) await madeBy(i % 2 ? alice.b : alice.a, `Flow ${i}`, listeners, made);
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await redis.kill();
    await new Promise((resolve) => setTimeout(resolve, 500));
    flowing = false;
    await flow;
    await redis.restart();
    await waitFor(() => rejoins() >= rejoined + 4, 'both instances to rejoin again', 15_000);
    for (let i = 0; i < 2; i++) await madeBy(i % 2 ? alice.b : alice.a, `After the kill ${i}`, listeners, made);
    const last = made.slice(-2);
    for (const listener of listeners) {
      await listener.until(() => last.every((m) => appliedBy(listener).includes(`orders:${m.orderId}`)), 'the orders made after the restart');
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    expectExactlyOnce(listeners, made);
    expect(made.filter((m) => m.title.includes('Flow')).length).toBeGreaterThan(4);
  }, 90_000);

  it('delivers what the publisher script publishes while Redis is frozen once Redis thaws, and exits 0 (issue 20)', async () => {
    const onB = await subscriber(b);
    redis.freeze();
    const script = spawn(process.execPath, ['--import', 'tsx', 'scripts/publish.ts', 'invalidate', 'acme', 'orders', 'from-a-frozen-worker'], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: { ...process.env, LIVE_REDIS_URL: redis.url, DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    script.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    script.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => script.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    redis.thaw();
    expect(await exited, output).toBe(0);
    await onB.until(() => onB.keys('orders').includes('from-a-frozen-worker'), "the worker's signal on B");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(onB.keys('orders').filter((id) => id === 'from-a-frozen-worker')).toHaveLength(1);
  }, 60_000);

  it('drains within 100 ms while Redis is frozen, with nothing in flight (issue 20)', async () => {
    // Nothing in flight: no stream open, and every pooled connection quiet for longer than the
    // drain's idle close (250 ms; a stream's socket, once the drain ended it, waits for that too).
    for (const listener of open.splice(0)) listener.stop();
    redis.freeze();
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(await healthOf(b)).toBe('degraded');
    await new Promise((resolve) => setTimeout(resolve, 400));
    const started = performance.now();
    const code = await b.stop('SIGTERM');
    const exitMs = performance.now() - started;
    redis.thaw();
    const drained = Number(/\[server\] drained in (\d+) ms/.exec(b.output())?.[1]);
    console.log(`[e2e redis] drain with Redis frozen: drained in ${drained} ms, process exited after ${exitMs.toFixed(0)} ms`);
    expect(code).toBe(0);
    // No grace here (LIVE_DRAIN_GRACE_MS=0). Before issue 20 closing the backend waited for QUIT
    // until the 2 s command timeout (measured in-process: 2,005 ms; now 52 ms).
    expect(drained).toBeLessThan(100);
  }, 30_000);
});
