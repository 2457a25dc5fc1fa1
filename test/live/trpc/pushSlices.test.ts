import { describe, expect, it } from 'vitest';
import { COMPUTE_CONCURRENCY, COMPUTE_SLICE_MS } from '../../../packages/trpc-live/src/trpc/computeSlices.ts';
import { waitFor } from '../../helpers/wait';
import { admin, createWatchApp } from './fixtures/watchApp';

// A change that matches many distinct watched queries computes them in slices: no computation starts after
// COMPUTE_SLICE_MS in one macrotask (at most COMPUTE_CONCURRENCY in flight), so the event loop answers other work
// in between (no request can hold it).

const WATCHED = 40;
/** Longer than half a slice: a slice holds two computations at most. */
const BUSY_MS = 3;

describe('pushed results computed in slices', () => {
  it(`lets other work run after a slice when one change matches ${WATCHED} watched queries of ${BUSY_MS} ms each`, async () => {
    const app = createWatchApp();
    for (let i = 0; i < WATCHED; i++) app.orders.set(`b${i}`, { id: `b${i}`, tenant: 'acme', total: i, updatedAt: new Date(0) });
    const { connection, pushed } = app.connect(admin);
    const add = Array.from({ length: WATCHED }, (_, i) => ({ path: 'orders.byId', input: { id: `b${i}` } }));
    expect((await app.live.watch(admin, { connectionId: connection.id, add })).refused).toEqual([]);
    const authorized = app.calls['orders.byId'];
    expect(authorized).toBe(WATCHED);

    // Other work, queued as the first computation ends: it runs once that macrotask yields. The oracle is the
    // resolver's own count of calls made by then.
    let computedBeforeOtherWork: number | undefined;
    app.state.busyMs = BUSY_MS;
    app.state.onByIdCall = () => {
      app.state.onByIdCall = undefined;
      setImmediate(() => (computedBeforeOtherWork = app.calls['orders.byId']! - authorized!));
    };
    await app.hub.invalidate('acme', { resource: 'orders' });
    await waitFor(() => pushed().length === WATCHED, 'every watched order pushed');

    expect(app.calls['orders.byId']! - authorized!).toBe(WATCHED);
    expect(pushed().every((frame) => frame.message.kind === 'result')).toBe(true);
    // Back to back, all 40 would be computed first (120 ms of one turn); in slices, those started in the first slice:
    // the ones in flight at once, and one more each time one settles while the slice has time.
    expect(computedBeforeOtherWork).toBeLessThanOrEqual(COMPUTE_CONCURRENCY + Math.ceil(COMPUTE_SLICE_MS / BUSY_MS));
  });
});
