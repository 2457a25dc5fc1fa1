import { TRPCError } from '@trpc/server';
import superjson from 'superjson';
import { describe, expect, it } from 'vitest';
import type { LiveRefetchMessage, LiveResultMessage } from 'trpc-live/core';
import { watchKey } from 'trpc-live/shared';
import { liveWatchInput } from 'trpc-live/trpc';
import { waitFor } from '../../helpers/wait';
import { admin, createWatchApp, staff, staff2 } from './fixtures/watchApp';

// live.watch and pushed results (issue 17 items 2, 3, 5) with a real hub, a real tRPC router and zod inputs.

const o1 = { path: 'orders.byId', input: { id: 'o1' } };
const o1Key = watchKey('orders.byId', { id: 'o1' });
/** Lets the pusher's macrotask and the computations run, for tests that expect nothing to arrive. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 30));
const code = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return error instanceof TRPCError ? error.code : `not a TRPCError: ${String(error)}`;
  }
};

describe('live.watch: who may watch what', () => {
  it('accepts a pushable query the caller may fetch and answers with the hub position', async () => {
    const app = createWatchApp();
    const { connection } = app.connect(staff);
    const response = await app.live.watch(staff, { connectionId: connection.id, add: [o1] });
    expect(response).toEqual({ cursor: app.hub.cursor(), accepted: [o1Key], refused: [] });
    expect(app.calls['orders.byId']).toBe(1); // authorized by calling it with the caller's context
  });

  it('refuses a staff user an admin-only query and another tenant\'s id, and pushes nothing to them after changes', async () => {
    const app = createWatchApp();
    const stream = app.connect(staff);
    const response = await app.live.watch(staff, {
      connectionId: stream.connection.id,
      add: [{ path: 'admin.revenue' }, { path: 'orders.byId', input: { id: 'g1' } }],
    });
    expect(response.accepted).toEqual([]);
    expect(response.refused).toEqual([
      { watch: 'admin.revenue', code: 'refused', message: 'Admins only' },
      { watch: watchKey('orders.byId', { id: 'g1' }), code: 'refused', message: 'Order g1 does not exist' },
    ]);
    // An admin of the tenant watches the same query, so a computation does run.
    const adminStream = app.connect(admin);
    await app.live.watch(admin, { connectionId: adminStream.connection.id, add: [{ path: 'admin.revenue' }] });
    await app.hub.invalidate('acme', { resource: 'admin' });
    await app.hub.invalidate('acme', { resource: 'orders' });
    await app.hub.invalidate('globex', { resource: 'orders', id: 'g1' });
    await waitFor(() => adminStream.pushed().length === 1, 'the admin result');
    await settle();
    expect(stream.pushed()).toEqual([]);
    expect((adminStream.pushed()[0]!.message as LiveResultMessage).data).toBe(30);
  });

  it('refuses a query the registry does not mark push, without calling it', async () => {
    const app = createWatchApp();
    const { connection } = app.connect(staff);
    const response = await app.live.watch(staff, { connectionId: connection.id, add: [{ path: 'orders.plain', input: { id: 'o1' } }] });
    expect(response.refused.map((r) => r.code)).toEqual(['not-pushable']);
  });

  it('refuses an input the procedure\'s own parser rejects', async () => {
    const app = createWatchApp();
    const { connection } = app.connect(staff);
    const response = await app.live.watch(staff, { connectionId: connection.id, add: [{ path: 'orders.byId', input: { id: 'o1', extra: 1 } }] });
    expect(response.refused.map((r) => r.code)).toEqual(['refused']);
    expect(app.calls['orders.byId']).toBeUndefined();
  });

  it('answers NOT_FOUND for another user\'s stream, another tenant\'s and an unknown id, as for a closed one', async () => {
    const app = createWatchApp();
    const { connection } = app.connect(staff);
    expect(await code(app.live.watch(staff2, { connectionId: connection.id, add: [o1] }))).toBe('NOT_FOUND');
    expect(await code(app.live.watch({ ...staff, tenant: 'globex' }, { connectionId: connection.id, add: [o1] }))).toBe('NOT_FOUND');
    expect(await code(app.live.watch(staff, { connectionId: 'nope', add: [o1] }))).toBe('NOT_FOUND');
    connection.close();
    expect(await code(app.live.watch(staff, { connectionId: connection.id, add: [o1] }))).toBe('NOT_FOUND');
  });

  it('answers BAD_REQUEST for malformed or oversized requests', async () => {
    const app = createWatchApp();
    const { connection } = app.connect(staff);
    const id = connection.id;
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const [i, request] of [
      { connectionId: '' },
      { connectionId: id, add: Array.from({ length: 257 }, (_, i) => ({ path: 'orders.byId', input: { id: `o${i}` } })) },
      { connectionId: id, add: [{ path: 'orders.byId', input: { id: 'x'.repeat(3000) } }] },
      { connectionId: id, add: [{ path: 'orders.byId', input: cyclic }] },
      { connectionId: id, remove: [42] },
      { connectionId: id, surprise: true },
    ].entries()) {
      expect(await code(app.live.watch(staff, request as never)), `request ${i}`).toBe('BAD_REQUEST');
    }
    expect(liveWatchInput.safeParse({ connectionId: id, add: [o1] }).success).toBe(true);
  });

  it('refuses with a clear error naming bindRouter when no router is bound, and says so once on the server', async () => {
    const logged: string[] = [];
    const app = createWatchApp({ logger: { warn: () => undefined, error: (message: string) => logged.push(message) } }, false);
    const { connection } = app.connect(staff);
    for (let i = 0; i < 3; i++) {
      const error = await app.live.watch(staff, { connectionId: connection.id, add: [o1] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TRPCError);
      expect((error as TRPCError).message).toMatch(/bindRouter/);
    }
    // The browser falls back to refetching without a word: the server's log is where the mistake shows.
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/no router is bound.*pushed results are off.*live\.bindRouter\(appRouter\)/);
  });

  it('refuses watches past the count and character bounds (full)', async () => {
    const app = createWatchApp({ maxWatches: 2, maxWatchBytes: 60 });
    const { connection } = app.connect(staff);
    const response = await app.live.watch(staff, {
      connectionId: connection.id,
      add: [o1, { path: 'orders.list' }, { path: 'orders.byId', input: { id: 'o2' } }],
    });
    expect(response.accepted).toEqual([o1Key, 'orders.list']);
    expect(response.refused.map((r) => [r.watch, r.code])).toEqual([[watchKey('orders.byId', { id: 'o2' }), 'full']]);
    const small = createWatchApp({ maxWatchBytes: o1Key.length + 5 });
    const other = small.connect(staff);
    const bytes = await small.live.watch(staff, { connectionId: other.connection.id, add: [o1, { path: 'orders.byId', input: { id: 'o2' } }] });
    expect(bytes.refused.map((r) => r.code)).toEqual(['full']);
  });

  it('keeps a watch while any holder holds it', async () => {
    const app = createWatchApp();
    const { connection, pushed } = app.connect(staff);
    await app.live.watch(staff, { connectionId: connection.id, holder: 'tab-1', add: [o1] });
    await app.live.watch(staff, { connectionId: connection.id, holder: 'tab-2', add: [o1] });
    expect(app.calls['orders.byId']).toBe(1); // the second holder joins the authorized watch
    await app.live.watch(staff, { connectionId: connection.id, holder: 'tab-1', remove: [o1Key] });
    await app.hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    await waitFor(() => pushed().length === 1, 'a result for the remaining holder');
    await app.live.watch(staff, { connectionId: connection.id, holder: 'tab-2', remove: [o1Key] });
    await app.hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    await settle();
    expect(pushed()).toHaveLength(1);
  });
});

describe('pushed results after a change', () => {
  it('computes a per-scope query once for three watchers and writes the same encoded frame to each', async () => {
    const app = createWatchApp();
    const streams = [admin, staff, staff2].map((ctx) => ({ ctx, ...app.connect(ctx) }));
    for (const s of streams) await app.live.watch(s.ctx, { connectionId: s.connection.id, add: [o1] });
    expect(app.calls['orders.byId']).toBe(3); // one authorization each
    app.orders.get('o1')!.total = 11;
    const receipt = await app.hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    await waitFor(() => streams.every((s) => s.pushed().length === 1), 'a result on every stream');
    expect(app.calls['orders.byId']).toBe(4);
    expect(app.live.pushStats()).toEqual({ computations: 1, results: 3, deltas: 0, refetches: { error: 0, 'too-large': 0, paused: 0, slow: 0 }, owed: 0 });
    const [first, ...others] = streams.map((s) => s.pushed()[0]!);
    for (const frame of others) expect(frame).toBe(first);
    expect(first!.id).toBeNull();
    const message = superjson.deserialize(JSON.parse(first!.payload)) as LiveResultMessage;
    expect(message).toMatchObject({ kind: 'result', watch: o1Key, epoch: receipt.epoch, seq: receipt.seq });
    expect(message.data).toEqual({ id: 'o1', tenant: 'acme', total: 11, updatedAt: new Date('2026-01-01T00:00:00Z') });
    // The invalidation still goes to everyone, before the result.
    const kinds = streams[0]!.sink.frames.map((f) => f.message.kind).filter((k) => k !== 'hello');
    expect(kinds).toEqual(['invalidate', 'result']);
  });

  it('computes a per-connection query once per connection, with that connection\'s context', async () => {
    const app = createWatchApp();
    const a = app.connect(staff);
    const b = app.connect(staff2);
    await app.live.watch(staff, { connectionId: a.connection.id, add: [{ path: 'orders.mine' }] });
    await app.live.watch(staff2, { connectionId: b.connection.id, add: [{ path: 'orders.mine' }] });
    await app.hub.invalidate('acme', { resource: 'orders' });
    await waitFor(() => a.pushed().length === 1 && b.pushed().length === 1, 'both results');
    expect(app.calls['orders.mine']).toBe(4); // 2 authorizations + 2 computations
    expect((a.pushed()[0]!.message as LiveResultMessage).data).toEqual({ user: 'sam' });
    expect((b.pushed()[0]!.message as LiveResultMessage).data).toEqual({ user: 'sue' });
  });

  it('computes pushed results with the context pushContext makes from the watcher\'s, once per watch call', async () => {
    const given: unknown[] = [];
    const app = createWatchApp({
      pushContext: (ctx) => {
        given.push(ctx);
        return { ...ctx, user: `${ctx.user} (pushed)` };
      },
    });
    const a = app.connect(staff);
    const response = await app.live.watch(staff, { connectionId: a.connection.id, add: [{ path: 'orders.mine' }] });
    expect(response.accepted).toEqual(['orders.mine']);
    expect(given).toEqual([staff]);
    await app.hub.invalidate('acme', { resource: 'orders' });
    await waitFor(() => a.pushed().length === 1, 'the result');
    expect((a.pushed()[0]!.message as LiveResultMessage).data).toEqual({ user: 'sam (pushed)' });
  });

  it('pushes for a change another instance published (delivered by the backend, not published here)', async () => {
    const app = createWatchApp();
    const s = app.connect(staff);
    await app.live.watch(staff, { connectionId: s.connection.id, add: [o1] });
    const signal = { kind: 'invalidate', resource: 'orders', id: 'o1', action: 'updated' } as const;
    await app.backend.publish({ scope: 'acme', topic: 'orders', lane: 'instant', signal, key: 'orders|i|orders|o1' });
    await waitFor(() => s.pushed().length === 1, 'the result');
    expect(s.pushed()[0]!.message.kind).toBe('result');
  });

  it('pushes nothing for a change the watch does not read', async () => {
    const app = createWatchApp();
    const s = app.connect(staff);
    await app.live.watch(staff, { connectionId: s.connection.id, add: [o1] });
    await app.hub.invalidate('acme', { resource: 'orders', id: 'o2' });
    await app.hub.invalidate('acme', { resource: 'admin' });
    await settle();
    expect(s.pushed()).toEqual([]);
    expect(app.calls['orders.byId']).toBe(1);
  });

  it('pushes for invalidations inside a batch, once for the batch', async () => {
    const app = createWatchApp();
    const s = app.connect(staff);
    await app.live.watch(staff, { connectionId: s.connection.id, add: [{ path: 'orders.list' }] });
    const receipt = await app.hub.batch('acme', [
      { kind: 'invalidate', resource: 'orders', id: 'o1', action: 'updated' },
      { kind: 'invalidate', resource: 'orders', id: 'o2', action: 'updated' },
    ]);
    await waitFor(() => s.pushed().length === 1, 'the result');
    await settle();
    expect(s.pushed()).toHaveLength(1);
    expect((s.pushed()[0]!.message as LiveResultMessage).seq).toBe(receipt.seq);
  });

  it('does not push to a connection a group-filtered or topic-restricted publish did not reach', async () => {
    const app = createWatchApp();
    const adminStream = app.connect(admin);
    const staffStream = app.connect(staff);
    const productsOnly = app.connect(staff2, ['products']);
    for (const [ctx, s] of [[admin, adminStream], [staff, staffStream], [staff2, productsOnly]] as const) {
      await app.live.watch(ctx, { connectionId: s.connection.id, add: [o1] });
    }
    await app.hub.invalidate('acme', { resource: 'orders', id: 'o1' }, { groups: { role: 'admin' } });
    await waitFor(() => adminStream.pushed().length === 1, 'the admin result');
    await settle();
    expect(staffStream.pushed()).toEqual([]);
    expect(productsOnly.pushed()).toEqual([]);
  });

  it('never writes an older result after a newer one: a change during a computation is computed after it', async () => {
    const app = createWatchApp();
    const s = app.connect(staff);
    await app.live.watch(staff, { connectionId: s.connection.id, add: [{ path: 'orders.slow' }] });
    let open!: () => void;
    app.state.slowGate = new Promise((resolve) => (open = resolve));
    const first = await app.hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    await waitFor(() => app.calls['orders.slow'] === 2, 'the first computation to start');
    app.orders.get('o1')!.total = 12;
    const second = await app.hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    const third = await app.hub.invalidate('acme', { resource: 'orders', id: 'o2' });
    await settle();
    expect(app.calls['orders.slow']).toBe(2); // waits for the running one
    app.state.slowGate = null;
    open();
    await waitFor(() => app.calls['orders.slow'] === 3, 'the second computation');
    await settle();
    // Both results may be written, or the newer one may replace the older while it waits in the outbox;
    // never the older after the newer.
    const seqs = s.pushed().map((f) => (f.message as LiveResultMessage).seq);
    expect(seqs.at(-1)).toBe(third.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(seqs.every((seq) => seq === first.seq || seq === third.seq)).toBe(true);
    expect(second.seq).toBeLessThan(third.seq);
    expect((s.pushed().at(-1)!.message as LiveResultMessage).data).toMatchObject({ total: 12 });
    expect(app.calls['orders.slow']).toBe(3);
  });

  it('starts a new connection with no watches: nothing is pushed to a resumed stream', async () => {
    const app = createWatchApp();
    const s = app.connect(staff);
    await app.live.watch(staff, { connectionId: s.connection.id, add: [o1] });
    const before = await app.hub.invalidate('acme', { resource: 'orders', id: 'o2' });
    s.connection.close();
    const resumed = app.live.stream(staff, { lastEventId: before.cursor });
    const sink = new (await import('../../helpers/sink')).RecordingSink();
    resumed.connect(sink);
    await app.hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    await settle();
    expect(sink.data.map((m) => m.kind)).toEqual(['invalidate']);
    expect(sink.frames.some((f) => f.message.kind === 'result')).toBe(false);
  });
});

describe('fallbacks: a refetch order instead of a result', () => {
  const refetchReason = (frames: ReturnType<ReturnType<typeof createWatchApp>['connect']>['pushed']) => {
    const [frame] = frames();
    return frame?.message.kind === 'refetch' ? (frame.message as LiveRefetchMessage).reason : frame?.message.kind;
  };

  it('sends error when the computation throws, without leaking its message', async () => {
    const app = createWatchApp();
    const s = app.connect(staff);
    await app.live.watch(staff, { connectionId: s.connection.id, add: [{ path: 'orders.flaky' }] });
    app.state.fail = true;
    await app.hub.invalidate('acme', { resource: 'orders' });
    await waitFor(() => s.pushed().length === 1, 'the refetch order');
    expect(refetchReason(s.pushed)).toBe('error');
    expect(s.pushed()[0]!.payload).not.toMatch(/database/);
    expect(app.errors).toHaveLength(1); // a server error is reported to the logger
  });

  it('sends too-large when the serialized result passes maxResultBytes', async () => {
    const app = createWatchApp({ maxResultBytes: 1000 });
    const s = app.connect(staff);
    await app.live.watch(staff, { connectionId: s.connection.id, add: [{ path: 'orders.big' }] });
    app.state.bigChars = 2000;
    await app.hub.invalidate('acme', { resource: 'orders' });
    await waitFor(() => s.pushed().length === 1, 'the refetch order');
    expect(refetchReason(s.pushed)).toBe('too-large');
    expect(s.pushed()[0]!.bytes).toBeLessThan(300);
  });

  it('sends slow to a stream whose outbox is congested', async () => {
    const app = createWatchApp();
    const s = app.connect(staff);
    await app.live.watch(staff, { connectionId: s.connection.id, add: [o1] });
    s.sink.pending = 40_000; // over half the sink's high-water mark (64 KiB), under the mark itself
    await app.hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    await waitFor(() => s.pushed().length === 1, 'the refetch order');
    expect(refetchReason(s.pushed)).toBe('slow');
  });

  it('forgets a closed stream\'s watches: nothing is computed for it', async () => {
    const app = createWatchApp();
    const s = app.connect(staff);
    await app.live.watch(staff, { connectionId: s.connection.id, add: [o1] });
    s.connection.close();
    await app.hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    await settle();
    expect(app.calls['orders.byId']).toBe(1);
  });
});
