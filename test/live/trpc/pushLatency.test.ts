import { describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/wait';
import { admin, createWatchApp, staff } from './fixtures/watchApp';

// The server's part of a pushed result's freshness (LiveMetrics.pushToWrite, the article benchmark's
// "publish to socket write"): from the hub's delivery of the oldest change a result reflects to the write
// of its frame, the computation included. Without the change's time on the frame, it would start at the
// frame's build, after the computation, and hide the query's cost. The oracle is the test's own clock
// around a computation it holds back for a known time. A result that replaces a pending one counts from the
// older change: test/live/core/pushFrames.test.ts.

const HOLD_MS = 60;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('publish-to-write latency of pushed results', () => {
  it('starts at the change, so a computation held back for 60 ms reports at least 60 ms', async () => {
    const app = createWatchApp();
    const s = app.connect(admin);
    await app.live.watch(admin, { connectionId: s.connection.id, add: [{ path: 'orders.slow' }] });
    let release!: () => void;
    app.state.slowGate = new Promise<void>((resolve) => (release = resolve));
    const before = performance.now();
    await app.hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    await sleep(HOLD_MS);
    release();
    await waitFor(() => s.pushed().length === 1, 'the result pushed');
    const elapsed = performance.now() - before;
    expect(s.pushed()[0]!.message.kind).toBe('result');
    expect(app.latencies.pushToWrite).toHaveLength(1);
    const [reported] = app.latencies.pushToWrite;
    // Date.now() resolution: 1 ms either side.
    expect(reported).toBeGreaterThanOrEqual(HOLD_MS - 1);
    expect(reported).toBeLessThanOrEqual(elapsed + 1);
    // The change's own invalidation frame went out at once, before the computation: its latency is small.
    expect(Math.min(...app.latencies.publishToWrite)).toBeLessThan(HOLD_MS / 2);
  });

  it('reports nothing for a batch without a pushed frame', async () => {
    const app = createWatchApp();
    app.connect(staff);
    await app.hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    await waitFor(() => app.latencies.publishToWrite.length > 0, 'the invalidation written');
    expect(app.latencies.pushToWrite).toEqual([]);
  });
});
