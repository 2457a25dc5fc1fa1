/**
 * Exactly once across resume for a plain tRPC client: `httpSubscriptionLink`
 * (superjson, eventsource@4) with no dedup code of its own. It applies every
 * message it gets, and after EVERY frame it disconnects and resumes from the
 * last id it saw, as a flaky network would make it. An import (progress on
 * the coalesced lane) runs interleaved with instant events and invalidations,
 * so instant frames overtake pending ones. Each seq must be applied exactly
 * once, on both transports, on the memory and the Redis backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub, LiveBackend, LiveMessage } from 'trpc-live/core';
import { createRedisBackend, type RedisBackend } from 'trpc-live/redis';
import { sessionCookieFor, setupApp, type TestApp } from '../helpers/app';
import { createNodeClient } from '../helpers/client';
import { serveTrpc } from '../helpers/http';
import { redisServerBinary, startRedis, type TestRedis } from '../helpers/redis';
import { describeWithService } from '../helpers/services';
import { waitFor } from '../helpers/wait';

type Client = ReturnType<typeof createNodeClient>;

/**
 * The plain consumer: one subscription at a time; takes one frame, applies
 * it, unsubscribes and subscribes again with `{ lastEventId }` set to the
 * last id it saw (what tRPC itself sends on a reconnect).
 */
function plainConsumer(client: Client) {
  const applied: Array<{ seq: number; kind: string; id: string }> = [];
  const ids: string[] = [];
  const errors: unknown[] = [];
  let lastId: string | undefined;
  let generation = 0;
  let current: { unsubscribe(): void } | null = null;
  let helloOnCurrent = false;
  let connections = 0;
  let stopped = false;

  const open = () => {
    const mine = ++generation;
    helloOnCurrent = false;
    connections++;
    current = client.live.stream.subscribe(lastId ? { lastEventId: lastId } : undefined, {
      onData(value) {
        // Frames the old subscription still hands over after we left are not read.
        if (mine !== generation || stopped) return;
        const tracked = value as unknown as { id?: string; data?: LiveMessage };
        const message = (tracked.id ? tracked.data : value) as LiveMessage;
        if (tracked.id) {
          lastId = tracked.id;
          ids.push(tracked.id);
        }
        if (message.kind === 'hello') {
          helloOnCurrent = true;
          return;
        }
        if (!('seq' in message)) return;
        applied.push({ seq: message.seq, kind: message.kind, id: tracked.id ?? '' });
        // Disconnect after this frame, and resume from the last id seen.
        generation++;
        helloOnCurrent = false;
        current?.unsubscribe();
        setTimeout(open, 0);
      },
      onError(error) {
        errors.push(error);
      },
    });
  };
  open();
  return {
    applied,
    ids,
    errors,
    get connections() {
      return connections;
    },
    /** Connected (its hello arrived) and nothing is on its way. */
    idle: () => helloOnCurrent,
    stop() {
      stopped = true;
      generation++;
      current?.unsubscribe();
    },
  };
}

/**
 * Publishes an import of `chunks` chunks: per chunk, progress (coalesced),
 * an order notification event and an order invalidation (instant), an
 * invalidation of a product on the batched lane, and one for another tenant;
 * then the last progress, the completion, the "Imported" event and its
 * notification invalidation. Waits for the consumer to be idle before each
 * chunk (so its stream is open and instant frames overtake the pending
 * ones) and for it to have applied the chunk after.
 */
async function runImport(hub: Hub, consumer: ReturnType<typeof plainConsumer>, chunks: number) {
  const seqs: number[] = [];
  const expect = (receipt: { seq: number }) => void seqs.push(receipt.seq);
  const appliedAll = (what: string) =>
    waitFor(() => seqs.every((seq) => consumer.applied.some((a) => a.seq === seq)), what, 15_000);
  for (let chunk = 1; chunk <= chunks; chunk++) {
    await waitFor(consumer.idle, `the consumer to be connected before chunk ${chunk}`, 10_000);
    expect(await hub.progress('acme', 'import-1', chunk * 100, (chunks + 1) * 100));
    expect(await hub.signal('acme', 'notifications.order', { text: `order ${chunk} imported` }));
    expect(await hub.invalidate('acme', { resource: 'orders', id: `imp_${chunk}` }));
    if (chunk % 2 === 0) expect(await hub.invalidate('acme', { resource: 'products', id: `prd_${chunk}` }, { lane: 'batched' }));
    await hub.invalidate('globex', { resource: 'orders', id: `other_${chunk}` });
    await appliedAll(`chunk ${chunk}`);
  }
  await waitFor(consumer.idle, 'the consumer to be connected before the end', 10_000);
  expect(await hub.progress('acme', 'import-1', (chunks + 1) * 100, (chunks + 1) * 100));
  expect(await hub.complete('acme', 'import-1', true, { imported: chunks }));
  expect(await hub.signal('acme', 'notifications.import', { text: `Imported ${chunks} orders` }));
  expect(await hub.invalidate('acme', { resource: 'notifications' }));
  await appliedAll('the end of the import');
  return seqs;
}

function exactlyOnceSuite(label: string, transport: 'stock' | 'fast', backend: () => LiveBackend | undefined, ready?: () => Promise<void>) {
  describe(`exactly once across resume, plain httpSubscriptionLink consumer (${label}, ${transport} transport)`, () => {
    let app: TestApp;
    let server: Awaited<ReturnType<typeof serveTrpc>>;
    beforeAll(async () => {
      const chosen = backend();
      app = await setupApp(chosen ? { backend: chosen } : {});
      await ready?.();
      server = await serveTrpc({ transport });
    });
    afterAll(async () => {
      await server?.close();
      await app?.close();
    });

    it('applies each seq exactly once when it disconnects after every frame and resumes from the last id', async () => {
      const consumer = plainConsumer(createNodeClient(server.url, await sessionCookieFor('bob@acme.test')));
      let published: number[];
      try {
        published = await runImport(app.hub, consumer, 8);
        // Anything sent twice arrives right after a resume: give it time to.
        await new Promise((resolve) => setTimeout(resolve, 300));
      } finally {
        consumer.stop();
      }
      const counts = new Map<number, number>();
      for (const { seq } of consumer.applied) counts.set(seq, (counts.get(seq) ?? 0) + 1);
      const twice = [...counts].filter(([, n]) => n > 1).map(([seq]) => consumer.applied.find((a) => a.seq === seq)!);
      expect(twice, `applied more than once: ${JSON.stringify(twice)}`).toEqual([]);
      expect([...counts.keys()].sort((a, b) => a - b)).toEqual(published);
      expect(consumer.errors).toEqual([]);
      // It really resumed after every frame, and frames really overtook pending ones (ids listing seqs beyond the watermark).
      expect(consumer.connections).toBe(consumer.applied.length + 1);
      const overtaken = consumer.ids.filter((id) => /:\d+\.\d/.test(id));
      expect(overtaken.length).toBeGreaterThanOrEqual(8);
      console.log(
        `[exactly-once ${label}/${transport}] ${consumer.applied.length} frames, ${consumer.connections} connections, ${overtaken.length} ids with seqs beyond the watermark, e.g. ${overtaken[0]}`,
      );
    });
  });
}

for (const transport of ['stock', 'fast'] as const) exactlyOnceSuite('memory backend', transport, () => undefined);

describeWithService('redis-server', redisServerBinary, 'exactly once across resume on the Redis backend', () => {
  let redis: TestRedis;
  let backend: RedisBackend | null = null;
  let run = 0;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  for (const transport of ['stock', 'fast'] as const) {
    exactlyOnceSuite(
      'redis backend',
      transport,
      () => (backend = createRedisBackend({ url: redis.url, prefix: `exactly-once-${process.pid}-${run++}`, logger: null })),
      () => waitFor(() => backend!.state().mode === 'shared', 'the Redis backend to connect', 10_000),
    );
  }
});
