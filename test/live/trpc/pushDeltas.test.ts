import superjson from 'superjson';
import { describe, expect, it, vi } from 'vitest';
import type { Frame, LiveDeltaMessage, LiveResultMessage } from 'trpc-live/core';
import { applyDelta } from 'trpc-live/shared';
import { PushBases } from '../../../packages/trpc-live/src/trpc/pushBases.ts';
import { waitFor } from '../../helpers/wait';
import { admin, createWatchApp, staff, staff2, type WatchCtx } from './fixtures/watchApp';

// Pushed results as deltas (issue 17 item 9, bytes): the server keeps each slot's previous result and sends
// a stream that holds it only what changed, one frame encoded once for every such stream; others get it whole.

const list = { path: 'orders.list' };
const decode = (frame: Frame) => superjson.deserialize(JSON.parse(frame.payload)) as LiveResultMessage | LiveDeltaMessage;
const settle = () => new Promise((resolve) => setTimeout(resolve, 30));
const day = (n: number) => new Date(Date.UTC(2026, 0, 1 + n));

/** An app whose acme tenant has `n` orders (oldest first in the map; orders.list lists them in map order). */
function appWithOrders(n: number, options: Parameters<typeof createWatchApp>[0] = {}) {
  const app = createWatchApp(options);
  for (let i = 0; i < n; i++) app.orders.set(`a${i}`, { id: `a${i}`, tenant: 'acme', total: i, updatedAt: day(i) });
  /** Puts a new order at the top of the list (first in the map), as a newest-first list shows it. */
  const addOnTop = (id: string) => {
    const rest = [...app.orders];
    app.orders.clear();
    app.orders.set(id, { id, tenant: 'acme', total: 1234, updatedAt: day(40) });
    for (const [key, order] of rest) app.orders.set(key, order);
  };
  const expected = () => [...app.orders.values()].filter((o) => o.tenant === 'acme');
  return { app, addOnTop, expected };
}

async function watchAll(app: ReturnType<typeof createWatchApp>, ctxs: WatchCtx[], deltas = true) {
  const streams = ctxs.map((ctx) => ({ ctx, ...app.connect(ctx) }));
  for (const s of streams) await app.live.watch(s.ctx, { connectionId: s.connection.id, add: [list], deltas });
  return streams;
}

describe('pushed deltas', () => {
  it('sends one delta frame, encoded once, to every stream that holds the previous result, smaller than the whole for a new top item', async () => {
    const { app, addOnTop, expected } = appWithOrders(50);
    const streams = await watchAll(app, [admin, staff, staff2]);
    app.orders.get('a3')!.total = 333;
    await app.hub.invalidate('acme', { resource: 'orders' });
    await waitFor(() => streams.every((s) => s.pushed().length === 1), 'the first (whole) result');
    const first = decode(streams[0]!.pushed()[0]!) as LiveResultMessage;
    expect(first.kind).toBe('result');

    addOnTop('new');
    const receipt = await app.hub.invalidate('acme', { resource: 'orders' });
    await waitFor(() => streams.every((s) => s.pushed().length === 2), 'the second result');
    const frames = streams.map((s) => s.pushed()[1]!);
    for (const frame of frames) expect(frame).toBe(frames[0]);
    const delta = decode(frames[0]!) as LiveDeltaMessage;
    expect(delta).toMatchObject({ kind: 'delta', watch: 'orders.list', seq: receipt.seq, base: first.seq });
    expect(app.live.pushStats()).toMatchObject({ computations: 2, results: 3, deltas: 3 });
    // Its size against the whole result of the same data, encoded the same way.
    const whole = JSON.stringify(superjson.serialize({ kind: 'result', watch: 'orders.list', epoch: delta.epoch, seq: delta.seq, data: expected() }));
    expect(frames[0]!.bytes).toBeLessThan(whole.length / 10);
    // Applied over the first result it is the list as it is now, Dates as Dates.
    const rebuilt = applyDelta(first.data, delta.ops) as ReturnType<typeof expected>;
    expect(rebuilt).toEqual(expected());
    expect(rebuilt[0]!.updatedAt).toBeInstanceOf(Date);
    expect(rebuilt[1]).toBe((first.data as unknown[])[0]); // the unchanged rows are the base's own objects
  });

  it('serializes the whole result only when some recipient needs it (every stream holding the base takes the delta)', async () => {
    const { app, addOnTop, expected } = appWithOrders(50);
    const streams = await watchAll(app, [admin, staff]);
    await app.hub.invalidate('acme', { resource: 'orders' });
    await waitFor(() => streams.every((s) => s.pushed().length === 1), 'the first (whole) result');
    const built = vi.spyOn(app.hub, 'pushFrame');
    const kinds = () => built.mock.calls.map(([message]) => message.kind);

    addOnTop('new');
    await app.hub.invalidate('acme', { resource: 'orders' });
    await waitFor(() => streams.every((s) => s.pushed().length === 2), 'the delta');
    expect(streams.map((s) => s.pushed()[1]!.message.kind)).toEqual(['delta', 'delta']);
    expect(kinds()).toEqual(['delta']);

    // A stream that joins needs the whole result: built once for it, the others still get the delta.
    const [late] = await watchAll(app, [staff2]);
    built.mockClear();
    addOnTop('newer');
    await app.hub.invalidate('acme', { resource: 'orders' });
    await waitFor(() => [...streams, late!].every((s) => s.pushed().length === (s === late ? 1 : 3)), 'the third change');
    expect(kinds().sort()).toEqual(['delta', 'result']);
    expect(late!.pushed()[0]!.message.kind).toBe('result');
    expect((decode(late!.pushed()[0]!) as LiveResultMessage).data).toEqual(expected());
    expect(streams.map((s) => s.pushed()[2]!.message.kind)).toEqual(['delta', 'delta']);
  });

  it('still orders a refetch (too-large) from streams that hold the base when the new whole result passes maxResultBytes', async () => {
    // The size of the first whole result, from a twin app.
    const twin = appWithOrders(50);
    const [probe] = await watchAll(twin.app, [admin]);
    await twin.app.hub.invalidate('acme', { resource: 'orders' });
    await waitFor(() => probe!.pushed().length === 1, 'the twin result');
    const first = probe!.pushed()[0]!.bytes;

    const { app, addOnTop } = appWithOrders(50, { maxResultBytes: first + 20 });
    const streams = await watchAll(app, [admin, staff]);
    await app.hub.invalidate('acme', { resource: 'orders' });
    await waitFor(() => streams.every((s) => s.pushed().length === 1), 'the first (whole) result');
    expect(streams[0]!.pushed()[0]!.message.kind).toBe('result');
    addOnTop('new'); // one more row: well over 20 characters more
    await app.hub.invalidate('acme', { resource: 'orders' });
    await waitFor(() => streams.every((s) => s.pushed().length === 2), 'the second frame');
    expect(streams.map((s) => s.pushed()[1]!.message)).toEqual(streams.map(() => expect.objectContaining({ kind: 'refetch', reason: 'too-large' })));
  });

  it('sends the whole result to a newly watching stream and one a holder added again, and deltas over the result a resumed stream got on resume', async () => {
    const { app, addOnTop } = appWithOrders(30);
    const [steady, paused] = await watchAll(app, [admin, staff]);
    app.hub.setPaused(paused!.connection.id, true, { scope: 'acme', groups: { user: 'sam' } });
    await app.hub.invalidate('acme', { resource: 'orders' });
    await waitFor(() => steady!.pushed().length === 1, 'the first result');
    await settle();
    app.hub.setPaused(paused!.connection.id, false, { scope: 'acme', groups: { user: 'sam' } });
    // Computed on resume, whole (the stream held no earlier result of it): the base of its next delta.
    await waitFor(() => paused!.pushed().length === 1, 'the result after resume');
    expect(paused!.pushed().map((f) => f.message.kind)).toEqual(['result']);
    const [late] = await watchAll(app, [staff2]);
    // The steady stream's second tab adds the watch too: that tab holds no previous result.
    addOnTop('b1');
    await app.hub.invalidate('acme', { resource: 'orders' });
    await waitFor(() => steady!.pushed().length === 2 && paused!.pushed().length === 2 && late!.pushed().length === 1, 'the second result');
    expect(steady!.pushed()[1]!.message.kind).toBe('delta');
    expect(paused!.pushed()[1]!.message.kind).toBe('delta');
    expect(late!.pushed()[0]!.message.kind).toBe('result');

    await app.live.watch(admin, { connectionId: steady!.connection.id, holder: 'tab-2', add: [list], deltas: true });
    addOnTop('b2');
    await app.hub.invalidate('acme', { resource: 'orders' });
    await waitFor(() => steady!.pushed().length === 3 && paused!.pushed().length === 3, 'the third result');
    expect(steady!.pushed()[2]!.message.kind).toBe('result');
    expect(paused!.pushed()[2]!.message.kind).toBe('delta');
  });

  it('sends the whole result to a stream whose previous frame of the watch still waits in its outbox (a delta would replace its base)', async () => {
    const { app, addOnTop } = appWithOrders(30);
    const [held, steady] = await watchAll(app, [staff, admin]);
    await app.hub.invalidate('acme', { resource: 'orders' });
    await waitFor(() => held!.pushed().length === 1 && steady!.pushed().length === 1, 'the first result');
    // As if the first result were still queued on this stream (its socket not taking data).
    held!.connection.pushPending = () => true;
    addOnTop('p1');
    await app.hub.invalidate('acme', { resource: 'orders' });
    await waitFor(() => held!.pushed().length === 2 && steady!.pushed().length === 2, 'the second result');
    expect([held!.pushed()[1]!.message.kind, steady!.pushed()[1]!.message.kind]).toEqual(['result', 'delta']);
  });

  it('sends whole results to a stream that did not say it applies deltas, and to every stream with deltaBaseBytes 0', async () => {
    for (const [deltas, options] of [
      [false, {}],
      [true, { deltaBaseBytes: 0 }],
    ] as const) {
      const { app, addOnTop } = appWithOrders(30, options);
      const [stream] = await watchAll(app, [staff], deltas);
      for (const id of ['c1', 'c2', 'c3']) {
        addOnTop(id);
        await app.hub.invalidate('acme', { resource: 'orders' });
        await settle();
      }
      await waitFor(() => stream!.pushed().length === 3, 'three results');
      expect(stream!.pushed().map((f) => f.message.kind), JSON.stringify(options)).toEqual(['result', 'result', 'result']);
    }
  });

  it('sends the whole result when the delta would not be clearly smaller', async () => {
    const { app } = appWithOrders(2);
    const [stream] = await watchAll(app, [staff]);
    for (let round = 0; round < 2; round++) {
      // Every row is replaced: the delta holds the whole list.
      app.orders.clear();
      for (let i = 0; i < 3; i++) app.orders.set(`r${round}-${i}`, { id: `r${round}-${i}`, tenant: 'acme', total: i, updatedAt: day(round) });
      await app.hub.invalidate('acme', { resource: 'orders' });
      await waitFor(() => stream!.pushed().length === round + 1, `result ${round}`);
    }
    expect(stream!.pushed().map((f) => f.message.kind)).toEqual(['result', 'result']);
  });
});

describe('PushBases', () => {
  it('forgets the least recently pushed slot once past its byte budget, and keeps no result over a quarter of it', () => {
    const bases = new PushBases(900);
    bases.set('a', { epoch: 'e', seq: 1, data: 'a', bytes: 200 });
    bases.set('b', { epoch: 'e', seq: 1, data: 'b', bytes: 200 });
    bases.set('c', { epoch: 'e', seq: 1, data: 'c', bytes: 200 });
    bases.set('a', { epoch: 'e', seq: 2, data: 'a2', bytes: 200 });
    bases.set('d', { epoch: 'e', seq: 1, data: 'd', bytes: 200 });
    bases.set('e', { epoch: 'e', seq: 1, data: 'e', bytes: 200 });
    expect(bases.get('b')).toBeUndefined();
    expect(bases.get('a')?.data).toBe('a2');
    expect(bases.bytes).toBe(800);
    bases.set('big', { epoch: 'e', seq: 1, data: 'x', bytes: 226 });
    expect(bases.get('big')).toBeUndefined();
    expect(bases.bytes).toBe(800);
  });
});
