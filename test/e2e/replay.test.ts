import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHub, createMemoryBackend, type LiveMessage } from 'trpc-live/core';
import { hubOptions, setHub } from '../../src/server/appHub';
import { setupApp, sessionCookieFor, type TestApp } from '../helpers/app';
import { createNodeClient } from '../helpers/client';
import { serveTrpc } from '../helpers/http';

type Item = { message: LiveMessage; id?: string };

/** A stream from `lastEventId` on; collects messages until stopped. */
function stream(client: ReturnType<typeof createNodeClient>, lastEventId?: string) {
  const items: Item[] = [];
  let notify: () => void = () => undefined;
  const subscription = client.live.stream.subscribe(lastEventId ? { lastEventId } : undefined, {
    onData(value) {
      const tracked = value as unknown as { id?: string; data?: LiveMessage };
      items.push(tracked.id ? { message: tracked.data!, id: tracked.id } : { message: value as unknown as LiveMessage });
      notify();
    },
  });
  return {
    items,
    data: () => items.filter((i) => i.message.kind !== 'hello'),
    until: (cond: () => boolean, what: string) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 5000);
        notify = () => {
          if (cond()) {
            clearTimeout(timer);
            resolve();
          }
        };
        notify();
      }),
    stop: () => subscription.unsubscribe(),
  };
}

/** A stream that is connected (its hello arrived). */
async function connected(client: ReturnType<typeof createNodeClient>, lastEventId?: string) {
  const s = stream(client, lastEventId);
  await s.until(() => s.items.some((i) => i.message.kind === 'hello'), 'hello');
  return s;
}

describe.each(['stock', 'fast'] as const)('replay over HTTP (%s transport): reconnect with a cursor', (transport) => {
  let app: TestApp;
  let server: Awaited<ReturnType<typeof serveTrpc>>;
  let client: ReturnType<typeof createNodeClient>;
  beforeAll(async () => {
    app = await setupApp();
    server = await serveTrpc({ transport });
    client = createNodeClient(server.url, await sessionCookieFor('bob@acme.test'));
  });
  afterAll(async () => {
    await server.close();
    await app.close();
  });

  it('delivers exactly the 5 distinct keys changed while away, once each, then live signals', async () => {
    const first = await connected(client);
    await app.hub.invalidate('acme', { resource: 'orders', id: 'before' });
    await first.until(() => first.data().length === 1, 'the first signal');
    const cursor = first.data()[0]!.id!;
    first.stop();

    const keys = ['k1', 'k2', 'k3', 'k4', 'k5'];
    for (let i = 0; i < 50; i++) await app.hub.invalidate('acme', { resource: 'orders', id: keys[i % 5]! });
    await app.hub.invalidate('globex', { resource: 'orders', id: 'other-tenant' });

    const second = stream(client, cursor);
    await second.until(() => second.data().length >= 5, 'the replayed keys');
    await app.hub.invalidate('acme', { resource: 'orders', id: 'live-after' });
    await second.until(() => second.data().some((i) => i.message.kind === 'invalidate' && i.message.id === 'live-after'), 'live signal');
    const ids = second.data().map((i) => (i.message.kind === 'invalidate' ? i.message.id : i.message.kind));
    expect(ids).toEqual(['k1', 'k2', 'k3', 'k4', 'k5', 'live-after']);
    // Each replayed frame carries its own cursor, in order: a further reconnect resumes after the last one.
    const seqs = second.data().map((i) => Number(/:(\d+)/.exec(i.id!)![1]));
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    second.stop();
  });

  it('sends one reset for an evicted cursor', async () => {
    await app.close();
    app = await setupApp({ backend: createMemoryBackend({ maxKeysPerScope: 3 }) });
    const first = await connected(client);
    await app.hub.invalidate('acme', { resource: 'orders', id: 'x0' });
    await first.until(() => first.data().length === 1, 'first');
    const cursor = first.data()[0]!.id!;
    first.stop();
    for (let i = 1; i <= 10; i++) await app.hub.invalidate('acme', { resource: 'orders', id: `x${i}` });
    const second = stream(client, cursor);
    await second.until(() => second.data().length >= 1, 'reset');
    expect(second.data().map((i) => i.message)).toEqual([expect.objectContaining({ kind: 'reset', reason: 'evicted' })]);
    second.stop();
  });

  it('sends one reset for a cursor of a previous epoch (the server restarted)', async () => {
    const first = await connected(client);
    await app.hub.invalidate('acme', { resource: 'orders', id: 'old' });
    await first.until(() => first.data().length === 1, 'first');
    const cursor = first.data()[0]!.id!;
    first.stop();
    // A restart: a fresh in-memory hub has a new epoch and no history.
    const restarted = createHub(hubOptions());
    setHub(restarted);
    await restarted.invalidate('acme', { resource: 'orders', id: 'new' });
    const second = stream(client, cursor);
    await second.until(() => second.data().length >= 1, 'reset');
    const [reset] = second.data();
    expect(reset!.message).toMatchObject({ kind: 'reset', reason: 'epoch' });
    expect(reset!.id!.startsWith(`${restarted.stats().epoch}:`)).toBe(true);
    second.stop();
    await restarted.close();
    setHub(app.hub);
  });

  it('answers a malformed cursor with one reset and keeps the stream open', async () => {
    const s = await connected(client, 'garbage');
    await s.until(() => s.data().length >= 1, 'the reset');
    expect(s.data().map((i) => i.message)).toEqual([expect.objectContaining({ kind: 'reset', reason: 'unknown-cursor' })]);
    // The reset carries a cursor of this server: a further reconnect resumes from it.
    expect(s.data()[0]!.id!.startsWith(`${app.hub.stats().epoch}:`)).toBe(true);
    await app.hub.invalidate('acme', { resource: 'orders', id: 'after-garbage' });
    await s.until(() => s.data().some((i) => i.message.kind === 'invalidate' && i.message.id === 'after-garbage'), 'a live signal after the reset');
    expect(s.data().filter((i) => i.message.kind === 'reset')).toHaveLength(1);
    s.stop();
  });

  it('answers bad topic patterns and oversized inputs with BAD_REQUEST, and stays up', async () => {
    const refuse = (input: Record<string, unknown>) =>
      new Promise<{ message: string; data?: { code?: string } }>((resolve) => {
        client.live.stream.subscribe(input as never, { onError: (e) => resolve(e as never) });
      });
    const badPattern = await refuse({ topics: ['orders.>.x'] });
    expect(badPattern.data?.code).toBe('BAD_REQUEST');
    expect(badPattern.message).toMatch(/only allowed as the last token/);
    expect((await refuse({ topics: ['x'.repeat(5000)] })).data?.code).toBe('BAD_REQUEST');
    expect((await refuse({ topics: Array.from({ length: 100 }, (_, i) => `t${i}`) })).data?.code).toBe('BAD_REQUEST');
    expect((await refuse({ lastEventId: 'e'.repeat(10_000) })).data?.code).toBe('BAD_REQUEST');
    expect((await refuse({ unexpected: true })).data?.code).toBe('BAD_REQUEST');
    const health = await createNodeClient(server.url, await sessionCookieFor('bob@acme.test')).orders.list.query();
    expect(health.length).toBeGreaterThan(0);
  });
});
