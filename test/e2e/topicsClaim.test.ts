import { describe, expect, it } from 'vitest';
import type { LiveMessage } from 'trpc-live/core';
import { createNodeClient } from '../helpers/client';
import { useServedApp } from '../helpers/servedApp';
import { makeToken } from '../helpers/tokens';
import { listen } from './liveClientSuite';

describe.each(['stock', 'fast'] as const)('a token topics claim over HTTP (%s transport)', (transport) => {
  const served = useServedApp({ transport });

  const limitedTo = async (topics: string[]) => createNodeClient(served.url, `live_session=${await makeToken({ claims: { topics } })}`);
  const invalidated = (messages: LiveMessage[]) => messages.flatMap((m) => (m.kind === 'invalidate' ? [`${m.resource}/${m.id}`] : []));

  it("gives a stream asking for '>' with a claim of ['orders'] the orders, and nothing else", async () => {
    const stream = await listen(await limitedTo(['orders']), { topics: ['>'] });
    await served.app.hub.invalidate('acme', { resource: 'products', id: 'p1' });
    await served.app.hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    await stream.until(() => invalidated(stream.data().map((r) => r.message)).includes('orders/o1'), 'the order');
    expect(invalidated(stream.data().map((r) => r.message))).toEqual(['orders/o1']);
    stream.stop();
  });

  it("gives a stream asking for 'orders.*' with a claim of ['*.created'] exactly orders.created", async () => {
    const stream = await listen(await limitedTo(['*.created']), { topics: ['orders.*'] });
    for (const topic of ['orders.updated', 'products.created', 'orders.created']) {
      await served.app.hub.invalidate('acme', { resource: 'orders', id: topic }, { topic });
    }
    await stream.until(() => stream.data().length >= 1, 'the one matching signal');
    await served.app.hub.invalidate('acme', { resource: 'orders', id: 'marker' }, { topic: 'orders.created' });
    await stream.until(() => invalidated(stream.data().map((r) => r.message)).includes('orders/marker'), 'the marker');
    expect(invalidated(stream.data().map((r) => r.message))).toEqual(['orders/orders.created', 'orders/marker']);
    stream.stop();
  });
});
