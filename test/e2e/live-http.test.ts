import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveMessage } from 'trpc-live/core';
import { setupApp, sessionCookieFor, type TestApp } from '../helpers/app';
import { createNodeClient } from '../helpers/client';
import { serveTrpc } from '../helpers/http';
import { waitFor } from '../helpers/wait';

type Received = { message: LiveMessage; at: number; id?: string };

/** Subscribes to the live stream and records what arrives; resolves once the hello arrived. */
async function listen(client: ReturnType<typeof createNodeClient>) {
  const received: Received[] = [];
  let onHello!: () => void;
  const ready = new Promise<void>((resolve) => (onHello = resolve));
  const waiters: Array<() => void> = [];
  const subscription = client.live.stream.subscribe(undefined, {
    onData(value) {
      const tracked = value as unknown as { id?: string; data?: LiveMessage };
      const message = (tracked.id ? tracked.data : value) as LiveMessage;
      received.push({ message, at: performance.now(), ...(tracked.id ? { id: tracked.id } : {}) });
      if (message.kind === 'hello') onHello();
      for (const w of waiters.splice(0)) w();
    },
  });
  await ready;
  return {
    received,
    data: () => received.filter((r) => r.message.kind !== 'hello'),
    /** Resolves once `count` data messages arrived, or rejects after `ms`. */
    until: (count: number, ms: number) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (received.filter((r) => r.message.kind !== 'hello').length >= count) {
            clearTimeout(timer);
            resolve();
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => reject(new Error(`fewer than ${count} messages within ${ms} ms`)), ms);
        const wait = () => {
          if (!check()) waiters.push(wait);
        };
        wait();
      }),
    /** Resolves at the next message, or rejects after `ms`. */
    next: (ms: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no message within ${ms} ms`)), ms);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
    stop: () => subscription.unsubscribe(),
  };
}

describe('live over HTTP: real tRPC handler, httpSubscriptionLink, eventsource@4', () => {
  let app: TestApp;
  let server: Awaited<ReturnType<typeof serveTrpc>>;
  beforeAll(async () => {
    app = await setupApp();
    server = await serveTrpc();
  });
  afterAll(async () => {
    await server.close();
    await app.close();
  });

  it("delivers every one of tenant A's warm mutations to A's subscriber within 250 ms and nothing to tenant B", async () => {
    const a = createNodeClient(server.url, await sessionCookieFor('alice@acme.test'));
    const listenerA = await listen(createNodeClient(server.url, await sessionCookieFor('bob@acme.test')));
    const listenerB = await listen(createNodeClient(server.url, await sessionCookieFor('carol@globex.test')));
    try {
      // Round 0 warms up: a process's first mutation pays for compilation and first
      // queries (75-220 ms measured on the loaded 2-core machine), not the path under
      // test; it must still arrive within the 2 s wait. Each of the 3 rounds after it
      // must take under 250 ms: they measured 11-24 ms under that load, while the
      // batched lane's shortest window is 500 ms, so a slow path fails every round.
      // Every round must deliver, and B must stay silent.
      const WARM_UP = 1;
      const ROUNDS = 3;
      const warmUps: number[] = [];
      const latencies: number[] = [];
      let orderId = '';
      for (let round = 0; round < WARM_UP + ROUNDS; round++) {
        const before = listenerA.data().length;
        const arrived = listenerA.until(before + 1, 2000);
        const started = performance.now();
        const order = await a.orders.create.mutate({ customer: `Live Test ${round}`, items: [{ productId: 'prd_acme_1', quantity: 1 }] });
        orderId = order.id;
        await arrived;
        (round < WARM_UP ? warmUps : latencies).push(listenerA.data()[before]!.at - started);
        // B gets nothing in the same window.
        await expect(listenerB.next(200)).rejects.toThrow(/no message/);
        // All four signals of the mutation arrive (the list is checked below for the last round).
        await listenerA.until(before + 4, 2000);
      }
      const ms = (list: number[]) => list.map((l) => l.toFixed(1)).join(', ');
      console.log(`[e2e] mutation → subscriber: ${ms(latencies)} ms (warm-up: ${ms(warmUps)} ms)`);
      expect(latencies).toHaveLength(ROUNDS);
      for (const latency of latencies) expect(latency).toBeLessThan(250);
      expect(listenerA.data().slice(-4).map((r) => r.message)).toEqual([
        // The resolver's own notification (event, then its list's invalidation), before the declared keys.
        expect.objectContaining({ kind: 'event', topic: 'notifications' }),
        expect.objectContaining({ kind: 'invalidate', resource: 'notifications', action: 'created' }),
        expect.objectContaining({ kind: 'invalidate', resource: 'orders', id: orderId, action: 'created' }),
        expect.objectContaining({ kind: 'invalidate', resource: 'products', id: 'prd_acme_1' }),
      ]);
      expect(listenerA.data().length).toBe(4 * (WARM_UP + ROUNDS));
      expect(listenerA.data()[0]!.id).toMatch(/^[A-Za-z0-9_-]+:\d+$/);
      expect(listenerB.data()).toEqual([]);
    } finally {
      listenerA.stop();
      listenerB.stop();
    }
  });

  it('refuses an unauthenticated stream with UNAUTHORIZED and registers nothing', async () => {
    await waitFor(() => app.hub.connectionCount === 0, 'the previous streams to close');
    const anonymous = createNodeClient(server.url, null);
    const error = await new Promise<{ data?: { code?: string } }>((resolve) => {
      anonymous.live.stream.subscribe(undefined, { onError: (e) => resolve(e as never) });
    });
    expect(error.data?.code).toBe('UNAUTHORIZED');
    expect(app.hub.connectionCount).toBe(0);
  });
});
