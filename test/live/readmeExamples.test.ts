// The package README's examples (sections "The registry and .meta({ invalidates })", "Publishing outside a procedure", "Several
// instances: the Redis backend" and "Testing"), written out as an app would write them: they
// compile against the public entries (npm run typecheck covers this file) and do what README says.
// If one of these has to change, change README's example with it.
import { initTRPC } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHub, type Frame, type LiveSink } from 'trpc-live/core';
import { processHub, resetProcessHub } from 'trpc-live/next';
import { createRedisBackend } from 'trpc-live/redis';
import { defineResources, defineTopics, liveEvent, liveJob, type LiveMessage } from 'trpc-live/shared';
import { captureInvalidations, capturePublishes, createManualTimers } from 'trpc-live/testing';
import { checkResources, createLive, type LiveMeta } from 'trpc-live/trpc';
import { redisServerBinary, startRedis, type TestRedis } from '../helpers/redis';
import { describeWithService } from '../helpers/services';

// README, "The registry": the registry module.
const resources = defineResources({
  posts: {
    queries: [{ path: 'post.list' }, { path: 'post.byId', by: 'id' }],
    dependents: ['stats.summary'],
  },
  users: { id: 'number', queries: [{ path: 'user.byId', by: 'userId' }] },
});

type Context = { headers: Headers; userId: number };
type Post = { id: string; authorId: number; title: string };

/** A stand-in for the app's database. */
const db = {
  posts: {
    clear: () => true,
    create: (authorId: number, title: string): Post => ({ id: 'p9', authorId, title }),
    rename: (id: string, title: string) => ({ id, title }),
  },
};

function createApp(live: ReturnType<typeof createLive<Context, typeof resources>>) {
  const t = initTRPC.context<Context>().meta<LiveMeta<typeof resources, Context>>().create();
  const baseProcedure = t.procedure.use(live.invalidationMiddleware);
  const appRouter = t.router({
    post: t.router({
      list: baseProcedure.query(() => []),
      byId: baseProcedure.input(z.object({ id: z.string() })).query(() => null),
      // README's three forms: static keys …
      clearAll: baseProcedure.meta({ invalidates: [{ resource: 'posts' }] }).mutation(() => db.posts.clear()),
      // … keys computed from the call, with every resource they may name …
      create: baseProcedure
        .meta({
          invalidates: {
            resources: ['posts', 'users'],
            keys: ({ output }: { output: Post }) => [
              { resource: 'posts', id: output.id, action: 'created' },
              { resource: 'users', id: output.authorId },
            ],
          },
        })
        .input(z.object({ title: z.string().min(1) }))
        .mutation(({ ctx, input }) => db.posts.create(ctx.userId, input.title)),
      // … and the form README's "Testing" calls.
      rename: baseProcedure
        .meta({ invalidates: { resources: ['posts'], keys: ({ input }: { input: { id: string } }) => [{ resource: 'posts', id: input.id }] } })
        .input(z.object({ id: z.string(), title: z.string().min(1) }))
        .mutation(({ input }) => db.posts.rename(input.id, input.title)),
    }),
    stats: t.router({ summary: baseProcedure.query(() => 1) }),
    user: t.router({ byId: baseProcedure.input(z.object({ userId: z.number() })).query(() => null) }),
  });
  return { appRouter, caller: t.createCallerFactory(appRouter)({ headers: new Headers(), userId: 7 }) };
}

// README, "The registry": the compile-time check against the router (a wrong path or `by` fails typecheck).
const checked = checkResources<ReturnType<typeof createApp>['appRouter']>()(resources);

describe('README: the registry and the three forms of invalidates', () => {
  const live = createLive<Context, typeof resources>({ resources, hub: createHub() });
  const { caller } = createApp(live);

  it('passes the registry through checkResources unchanged when it fits the router', () => {
    expect(checked).toBe(resources);
  });

  it('publishes the static keys, the computed keys and the renamed post when the mutations succeed', async () => {
    expect(await captureInvalidations(live, () => caller.post.clearAll())).toEqual([{ scope: 'default', resource: 'posts', action: 'changed' }]);
    expect(await captureInvalidations(live, () => caller.post.create({ title: 'Hello' }))).toEqual([
      { scope: 'default', resource: 'posts', id: 'p9', action: 'created' },
      { scope: 'default', resource: 'users', id: '7', action: 'changed' },
    ]);
    // README, "Testing": the first example, word for word.
    expect(await captureInvalidations(live, () => caller.post.rename({ id: '2', title: 'Renamed' }))).toEqual([
      { scope: 'default', resource: 'posts', id: '2', action: 'changed' },
    ]);
  });

  it('publishes nothing when the input is refused', async () => {
    const capture = await capturePublishes(live, () => caller.post.rename({ id: '2', title: '' }));
    expect(capture.error).toBeDefined();
    expect(capture.entries).toEqual([]);
  });

  it('publishes keys from outside a procedure with publishKeys', async () => {
    const published = await captureInvalidations(live, () => live.publishKeys({ headers: new Headers(), userId: 1 }, [{ resource: 'posts', id: '3' }]));
    expect(published).toEqual([{ scope: 'default', resource: 'posts', id: '3', action: 'changed' }]);
  });
});

// README, "Publishing outside a procedure": the topics module, the publisher and the page's reading.
const topics = defineTopics({
  mentions: liveEvent<{ postId: string; by: string }>(),
  exports: liveJob<{ rows: number }, { url: string }>(),
});

describe('README: publishing outside a procedure', () => {
  it('publishes progress, completion, an invalidation and an event that the page reads back with the declarations', async () => {
    const timers = createManualTimers();
    const hub = createHub({ timers });
    const live = createLive<Context, typeof resources, typeof topics>({ resources, topics, hub });
    const frames: Frame[] = [];
    hub.connect({ scope: 'acme', sink: { write: (batch) => frames.push(...batch), pendingBytes: () => 0, onDrain: () => {}, close: () => {} } });
    const [scope, run, post] = ['acme', { id: 'exp_1', url: '/exports/exp_1.csv' }, { id: 'p1' }];
    const published = await captureInvalidations(hub, async () => {
      const exporter = live.publisher('post-export', { invalidates: ['posts'], publishes: ['exports', 'mentions'] });

      await exporter.progress(scope, 'exports', run.id, 40, 100, { rows: 4000 }); // key `exports.<id>`, coalesced lane
      await exporter.complete(scope, 'exports', run.id, true, { url: run.url });
      await exporter.invalidate(scope, 'posts', post.id, { action: 'updated' }); // or (scope, 'posts', { action }) for all
      await exporter.event(scope, 'mentions', { postId: post.id, by: 'ada' });
    });
    expect(published).toEqual([{ scope: 'acme', resource: 'posts', id: 'p1', action: 'updated' }]);
    // Progress travels on the coalesced lane: it arrives after its flush window.
    timers.advance(5000);
    let rows = 0;
    let url = '';
    const setRows = (value: number) => (rows = value);
    const setUrl = (value: string) => (url = value);
    // The page's listener, as README writes it inside useCallback.
    const onMessage = (message: LiveMessage) => {
      const update = topics.exports.parse(message); // null for any other message
      if (update?.kind === 'progress') setRows(update.extra.rows);
      if (update?.kind === 'complete') setUrl(update.extra.url);
    };
    for (const frame of frames) onMessage(frame.message);
    expect([rows, url]).toEqual([4000, '/exports/exp_1.csv']);
    expect(frames.map((frame) => topics.mentions.parse(frame.message)?.data).filter(Boolean)).toEqual([{ postId: 'p1', by: 'ada' }]);
    expect(topics.exports.key(run.id)).toBe('exports.exp_1');
    expect(topics.exports.pattern).toBe('exports.*');
  });
});

describe('README: manual timers', () => {
  it('writes a batched invalidation only once the batched window has passed on the manual clock', async () => {
    const timers = createManualTimers();
    const hub = createHub({ timers });
    const frames: Frame[] = [];
    const sink: LiveSink = { write: (batch) => frames.push(...batch), pendingBytes: () => 0, onDrain: () => {}, close: () => {} };
    hub.connect({ scope: 'default', sink });
    await hub.invalidate('default', { resource: 'posts', id: '2' }, { lane: 'batched' });
    timers.runDeferred();
    expect(frames.map((frame) => frame.message.kind)).toEqual(['hello']);
    timers.advance(2000);
    expect(frames.map((frame) => frame.message.kind)).toEqual(['hello', 'invalidate']);
  });
});

describeWithService('redis-server', redisServerBinary, 'README: the Redis backend', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await processHub().close();
    resetProcessHub();
    await redis.stop();
  });

  it("delivers a publish-only worker's invalidation to the web process's hub when both use one url and prefix", async () => {
    const url = redis.url;
    // The web process, as README writes it (REDIS_URL read from the test's server).
    const getHub = () => processHub(() => createHub({ backend: createRedisBackend({ url, prefix: 'myapp' }) }));
    const live = createLive<Context, typeof resources>({ resources, hub: getHub });
    const web = live.hub().backend as ReturnType<typeof createRedisBackend>;
    expect(await web.ready(5000)).toBe(true);
    // The worker, as README writes it.
    const published = await captureInvalidations(live, async () => {
      const backend = createRedisBackend({ url, prefix: 'myapp', subscribe: false });
      const hub = createHub({ backend });
      expect(await backend.ready(5000)).toBe(true);
      await hub.invalidate('default', { resource: 'posts', id: '42' });
      expect(await backend.settled(5000)).toBe(true);
      await hub.close();
      // The web hub hears it through Redis' channel, a moment later.
      const deadline = Date.now() + 5000;
      while (live.hub().stats().published.instant === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    });
    expect(published).toEqual([{ scope: 'default', resource: 'posts', id: '42', action: 'changed' }]);
    expect(getHub()).toBe(live.hub());
  });
});
