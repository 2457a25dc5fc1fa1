import { describe, expect, it } from 'vitest';
import type { LiveRefetchMessage, LiveResultMessage } from 'trpc-live/core';
import { watchKey } from 'trpc-live/shared';
import { waitFor } from '../../helpers/wait';
import { admin, createWatchApp, staff, staff2, type WatchCtx } from './fixtures/watchApp';

// Issue 17 item 6: a paused stream (every tab of the browser hidden) receives nothing and costs no
// computation; when it resumes, each watch a change matched meanwhile is computed once and pushed, so
// the tab shown again holds fresh data without a request of its own. Real hub, real tRPC router.

const o1 = { path: 'orders.byId', input: { id: 'o1' } };
const o1Key = watchKey('orders.byId', { id: 'o1' });
/** Lets the pusher's macrotask and the computations run, for tests that expect nothing to arrive. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 30));
const owner = (ctx: WatchCtx) => ({ scope: ctx.tenant, groups: { user: ctx.user } });

type App = ReturnType<typeof createWatchApp>;
const pause = (app: App, stream: { connection: { id: string } }, ctx: WatchCtx) => app.hub.setPaused(stream.connection.id, true, owner(ctx));
const resume = (app: App, stream: { connection: { id: string } }, ctx: WatchCtx) => app.hub.setPaused(stream.connection.id, false, owner(ctx));

describe('pushed results and a paused stream', () => {
  it('writes nothing to a paused stream and computes nothing for it, however many changes', async () => {
    const app = createWatchApp();
    const s = app.connect(staff);
    await app.live.watch(staff, { connectionId: s.connection.id, add: [o1] });
    pause(app, s, staff);
    const written = s.sink.frames.length;
    for (let i = 0; i < 3; i++) await app.hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    await settle();
    expect(s.sink.frames.length).toBe(written);
    expect(app.calls['orders.byId']).toBe(1); // the watch call's authorization only
    expect(app.live.pushStats()).toMatchObject({ computations: 0, owed: 1, refetches: { paused: 0 } });
  });

  it('computes an owed watch once on resume and pushes the data of then, after the invalidations, with no refetch order', async () => {
    const app = createWatchApp();
    const s = app.connect(staff);
    await app.live.watch(staff, { connectionId: s.connection.id, add: [o1] });
    pause(app, s, staff);
    app.orders.get('o1')!.total = 11;
    await app.hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    app.orders.get('o1')!.total = 12;
    const last = await app.hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    await settle();
    resume(app, s, staff);
    await waitFor(() => s.pushed().length === 1, 'the result after resume');
    const message = s.pushed()[0]!.message as LiveResultMessage;
    expect(message).toMatchObject({ kind: 'result', watch: o1Key, epoch: last.epoch, seq: last.seq });
    expect(message.data).toMatchObject({ id: 'o1', total: 12 });
    expect(app.calls['orders.byId']).toBe(2);
    // The collapsed invalidation first (the client holds it for the result), then the result.
    expect(s.sink.frames.map((f) => f.message.kind).filter((k) => k !== 'hello')).toEqual(['invalidate', 'result']);
    await settle();
    expect(s.pushed()).toHaveLength(1);
    expect(app.live.pushStats()).toMatchObject({ computations: 1, results: 1, refetches: { error: 0, 'too-large': 0, paused: 0, slow: 0 } });
  });

  it('labels the result with the hub position at resume, which covers changes of other keys published meanwhile', async () => {
    const app = createWatchApp();
    const s = app.connect(staff);
    await app.live.watch(staff, { connectionId: s.connection.id, add: [o1] });
    pause(app, s, staff);
    await app.hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    const later = await app.hub.invalidate('acme', { resource: 'admin' });
    await settle();
    resume(app, s, staff);
    await waitFor(() => s.pushed().length === 1, 'the result after resume');
    expect(s.pushed()[0]!.message).toMatchObject({ kind: 'result', seq: later.seq });
  });

  it('pushes nothing on resume when no change matched a watch while paused', async () => {
    const app = createWatchApp();
    const s = app.connect(staff);
    await app.live.watch(staff, { connectionId: s.connection.id, add: [o1] });
    pause(app, s, staff);
    await app.hub.invalidate('acme', { resource: 'orders', id: 'o2' });
    resume(app, s, staff);
    await settle();
    expect(s.pushed()).toEqual([]);
    expect(app.calls['orders.byId']).toBe(1);
  });

  it('computes a per-scope watch once for streams resuming together and pushes the same frame to each', async () => {
    const app = createWatchApp();
    const streams = [staff, staff2].map((ctx) => ({ ctx, ...app.connect(ctx) }));
    for (const s of streams) await app.live.watch(s.ctx, { connectionId: s.connection.id, add: [o1] });
    for (const s of streams) pause(app, s, s.ctx);
    await app.hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    await settle();
    for (const s of streams) resume(app, s, s.ctx);
    await waitFor(() => streams.every((s) => s.pushed().length === 1), 'a result on both');
    expect(app.calls['orders.byId']).toBe(3); // 2 authorizations + 1 computation
    expect(streams[0]!.pushed()[0]!.message.kind).toBe('result');
    expect(streams[0]!.pushed()[0]).toBe(streams[1]!.pushed()[0]);
  });

  it('computes a per-connection watch on resume with that stream\'s own context', async () => {
    const app = createWatchApp();
    const s = app.connect(staff2);
    await app.live.watch(staff2, { connectionId: s.connection.id, add: [{ path: 'orders.mine' }] });
    pause(app, s, staff2);
    await app.hub.invalidate('acme', { resource: 'orders' });
    await settle();
    expect(app.calls['orders.mine']).toBe(1);
    resume(app, s, staff2);
    await waitFor(() => s.pushed().length === 1, 'the result after resume');
    expect((s.pushed()[0]!.message as LiveResultMessage).data).toEqual({ user: 'sue' });
  });

  it('sends a refetch order on resume when the owed computation throws: never neither', async () => {
    const app = createWatchApp();
    const s = app.connect(staff);
    await app.live.watch(staff, { connectionId: s.connection.id, add: [{ path: 'orders.flaky' }] });
    pause(app, s, staff);
    await app.hub.invalidate('acme', { resource: 'orders' });
    app.state.fail = true;
    resume(app, s, staff);
    await waitFor(() => s.pushed().length === 1, 'the refetch order');
    expect((s.pushed()[0]!.message as LiveRefetchMessage).reason).toBe('error');
  });

  it('owes the result to a stream paused while its computation ran, and pushes it to the others', async () => {
    const app = createWatchApp();
    const slow = { path: 'orders.slow' };
    const hidden = app.connect(staff);
    const shown = app.connect(staff2);
    await app.live.watch(staff, { connectionId: hidden.connection.id, add: [slow] });
    await app.live.watch(staff2, { connectionId: shown.connection.id, add: [slow] });
    let open!: () => void;
    app.state.slowGate = new Promise<void>((resolve) => (open = resolve));
    await app.hub.invalidate('acme', { resource: 'orders' });
    await waitFor(() => app.calls['orders.slow'] === 3, 'the computation started');
    pause(app, hidden, staff);
    open();
    await waitFor(() => shown.pushed().length === 1, 'the result on the shown stream');
    await settle();
    expect(hidden.pushed()).toEqual([]);
    resume(app, hidden, staff);
    await waitFor(() => hidden.pushed().length === 1, 'the result after resume');
    expect(hidden.pushed()[0]!.message.kind).toBe('result');
    expect(app.calls['orders.slow']).toBe(4);
  });

  it('forgets what a watch was owed once its last holder removes it while paused', async () => {
    const app = createWatchApp();
    const s = app.connect(staff);
    await app.live.watch(staff, { connectionId: s.connection.id, add: [o1] });
    pause(app, s, staff);
    await app.hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    await app.live.watch(staff, { connectionId: s.connection.id, remove: [o1Key] });
    resume(app, s, staff);
    await settle();
    expect(s.pushed()).toEqual([]);
    expect(app.calls['orders.byId']).toBe(1);
  });

  it('keeps pushing to the streams that are not paused while one is', async () => {
    const app = createWatchApp();
    const hidden = app.connect(staff);
    const shown = app.connect(admin);
    await app.live.watch(staff, { connectionId: hidden.connection.id, add: [o1] });
    await app.live.watch(admin, { connectionId: shown.connection.id, add: [o1] });
    pause(app, hidden, staff);
    await app.hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    await waitFor(() => shown.pushed().length === 1, 'the result on the shown stream');
    await settle();
    expect(hidden.pushed()).toEqual([]);
    expect(app.live.pushStats()).toMatchObject({ computations: 1, results: 1, owed: 1 });
  });
});
