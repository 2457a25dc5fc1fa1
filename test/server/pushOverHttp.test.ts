import { afterEach, describe, expect, it } from 'vitest';
import type { LiveMessage } from 'trpc-live/core';
import { watchKey } from 'trpc-live/shared';
import type { FairTurns } from '../../src/server/fairTurns';
import { getRequestLimits } from '../../src/server/requestLimits';
import { createNodeClient } from '../helpers/client';
import { setupApp, type TestApp } from '../helpers/app';
import { serveTrpc, signInOverHttp } from '../helpers/http';
import { waitFor } from '../helpers/wait';

// Pushed results over HTTP (issue 17): the watch mutation and a `result` frame on the stream, through tRPC's
// own httpSubscriptionLink, with the stock route and with the fast transport. A result carries no SSE id, so the
// id the client resumes from stays the last change's.

describe.each(['stock', 'fast'] as const)('pushed results over HTTP (%s transport)', (transport) => {
  let app: TestApp;
  let server: Awaited<ReturnType<typeof serveTrpc>>;
  let unsubscribe = () => {};
  afterEach(async () => {
    unsubscribe();
    await server.close();
    await app.close();
  });

  it('delivers the result of a watched order after another user changes it, with Dates intact', async () => {
    app = await setupApp();
    server = await serveTrpc({ transport });
    const bob = createNodeClient(server.url, await signInOverHttp(server.url, 'bob@acme.test'));
    const alice = createNodeClient(server.url, await signInOverHttp(server.url, 'alice@acme.test'));
    const messages: Array<{ id: string | undefined; message: LiveMessage }> = [];
    const subscription = bob.live.stream.subscribe(undefined, {
      onData: (data: unknown) => {
        // Tracked frames come as { id, data }; control and pushed frames as the message itself.
        const tracked = data as { id?: string; data?: LiveMessage };
        messages.push(tracked.data && typeof tracked.id === 'string' ? { id: tracked.id, message: tracked.data } : { id: undefined, message: data as LiveMessage });
      },
    });
    unsubscribe = () => subscription.unsubscribe();
    await waitFor(() => messages.some((m) => m.message.kind === 'hello'), 'the hello');
    const hello = messages.find((m) => m.message.kind === 'hello')!.message as { connectionId: string };
    const key = watchKey('orders.byId', { id: 'ord_acme_2' });
    const response = await bob.live.watch.mutate({ connectionId: hello.connectionId, add: [{ path: 'orders.byId', input: { id: 'ord_acme_2' } }] });
    expect(response.accepted).toEqual([key]);
    const before = await alice.orders.byId.query({ id: 'ord_acme_2' });
    const status = before.status === 'shipped' ? 'paid' : 'shipped';
    await alice.orders.updateStatus.mutate({ id: 'ord_acme_2', status });
    await waitFor(() => messages.some((m) => m.message.kind === 'result'), 'the pushed result');
    const result = messages.find((m) => m.message.kind === 'result')!;
    const invalidation = messages.find((m) => m.message.kind === 'invalidate')!;
    expect(result.id).toBeUndefined();
    expect(result.message).toMatchObject({ kind: 'result', watch: key, seq: (invalidation.message as { seq: number }).seq, data: { id: 'ord_acme_2', status } });
    expect((result.message as { data: { createdAt: unknown } }).data.createdAt).toBeInstanceOf(Date);
    expect(messages.indexOf(invalidation)).toBeLessThan(messages.indexOf(result));
    expect(invalidation.id).toMatch(/:\d+$/);
  });
});

describe('pushed results over HTTP: fair turns', () => {
  it('computes a pushed result without taking a turn of the watcher (no request of theirs runs it)', async () => {
    const app = await setupApp();
    const server = await serveTrpc({ transport: 'fast' });
    const turns = getRequestLimits().turns;
    const take = turns.take.bind(turns);
    const taken: string[] = [];
    (turns as { take: FairTurns['take'] }).take = (key) => {
      taken.push(key);
      return take(key);
    };
    let unsubscribe = () => {};
    try {
      const bob = createNodeClient(server.url, await signInOverHttp(server.url, 'bob@acme.test'));
      const alice = createNodeClient(server.url, await signInOverHttp(server.url, 'alice@acme.test'));
      const kinds: string[] = [];
      let connectionId = '';
      const subscription = bob.live.stream.subscribe(undefined, {
        onData: (data: unknown) => {
          const tracked = data as { id?: string; data?: LiveMessage };
          const message = tracked.data && typeof tracked.id === 'string' ? tracked.data : (data as LiveMessage);
          kinds.push(message.kind);
          if (message.kind === 'hello') connectionId = message.connectionId;
        },
      });
      unsubscribe = () => subscription.unsubscribe();
      await waitFor(() => connectionId !== '', 'the hello');
      taken.length = 0;
      await bob.live.watch.mutate({ connectionId, add: [{ path: 'orders.byId', input: { id: 'ord_acme_2' } }] });
      // The watch call's own turn and its authorization's: bob's key.
      const bobKey = taken[0]!;
      expect(taken.length).toBeGreaterThanOrEqual(1);
      taken.length = 0;
      const before = await alice.orders.byId.query({ id: 'ord_acme_2' });
      taken.length = 0;
      await alice.orders.updateStatus.mutate({ id: 'ord_acme_2', status: before.status === 'shipped' ? 'paid' : 'shipped' });
      await waitFor(() => kinds.includes('result'), 'the pushed result');
      expect(taken.filter((key) => key === bobKey)).toEqual([]);
      expect(taken.length).toBeGreaterThanOrEqual(1); // alice's mutation took hers: the spy sees turns
    } finally {
      (turns as { take: FairTurns['take'] }).take = take;
      unsubscribe();
      await server.close();
      await app.close();
    }
  });
});
