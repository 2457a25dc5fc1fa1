import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveMessage } from '../../src/live/core';
import { setupApp, sessionCookieFor, type TestApp } from '../helpers/app';
import { createNodeClient } from '../helpers/client';
import { serveTrpc } from '../helpers/http';

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

  it("delivers tenant A's mutation to A's subscriber within 200 ms and nothing to tenant B", async () => {
    const a = createNodeClient(server.url, await sessionCookieFor('alice@acme.test'));
    const b = createNodeClient(server.url, await sessionCookieFor('carol@globex.test'));
    const listenerA = await listen(createNodeClient(server.url, await sessionCookieFor('bob@acme.test')));
    const listenerB = await listen(b);

    const arrived = listenerA.next(2000);
    const started = performance.now();
    const order = await a.orders.create.mutate({ customer: 'Live Test', items: [{ productId: 'prd_acme_1', quantity: 1 }] });
    await arrived;
    const latency = listenerA.data()[0]!.at - started;
    console.log(`[e2e] mutation → subscriber: ${latency.toFixed(1)} ms`);
    expect(latency).toBeLessThan(200);

    // Wait the same window on B: it must receive nothing.
    await expect(listenerB.next(200)).rejects.toThrow(/no message/);
    await listenerA.next(500).catch(() => undefined); // the products key may still be in flight
    expect(listenerA.data().map((r) => r.message)).toEqual([
      // The resolver's own notification (event, then its list's invalidation), before the declared keys.
      expect.objectContaining({ kind: 'event', topic: 'notifications' }),
      expect.objectContaining({ kind: 'invalidate', resource: 'notifications', action: 'created' }),
      expect.objectContaining({ kind: 'invalidate', resource: 'orders', id: order.id, action: 'created' }),
      expect.objectContaining({ kind: 'invalidate', resource: 'products', id: 'prd_acme_1' }),
    ]);
    expect(listenerA.data()[0]!.id).toMatch(/^[A-Za-z0-9_-]+:\d+$/);
    expect(listenerB.data()).toEqual([]);
    listenerA.stop();
    listenerB.stop();
  });

  it('refuses an unauthenticated stream with UNAUTHORIZED and registers nothing', async () => {
    const anonymous = createNodeClient(server.url, null);
    const error = await new Promise<{ data?: { code?: string } }>((resolve) => {
      anonymous.live.stream.subscribe(undefined, { onError: (e) => resolve(e as never) });
    });
    expect(error.data?.code).toBe('UNAUTHORIZED');
    expect(app.hub.connectionCount).toBe(0);
  });
});
