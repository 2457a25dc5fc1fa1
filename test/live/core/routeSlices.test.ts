import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHub, type Hub } from 'trpc-live/core';
import { RecordingSink } from '../../helpers/sink';

describe('hub: a burst is routed in slices (the event loop keeps turning)', () => {
  let hub: Hub;
  beforeEach(() => {
    vi.useFakeTimers();
    hub = createHub();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('routes at most one budget of recipients per turn and delivers everything in order afterwards', async () => {
    const sinks = Array.from({ length: 2_000 }, () => new RecordingSink());
    const connections = sinks.map((sink) => hub.connect({ scope: 'acme', sink }));
    for (let i = 0; i < 10; i++) void hub.invalidate('acme', { resource: 'orders', id: String(i) });
    // 10 entries × 2,000 recipients = 20,000 visits: more than one turn's budget.
    const routedNow = connections[0]!.pendingFrames;
    expect(routedNow).toBeGreaterThan(0);
    expect(routedNow).toBeLessThan(10);
    await vi.runAllTimersAsync();
    for (const sink of [sinks[0]!, sinks[1_999]!]) {
      expect(sink.data.map((m) => (m.kind === 'invalidate' ? m.id : m.kind))).toEqual(
        Array.from({ length: 10 }, (_, i) => String(i)),
      );
    }
  });

  it('gives a connection that resumes while a burst is queued every entry exactly once', async () => {
    const early = new RecordingSink();
    hub.connect({ scope: 'acme', sink: early });
    const many = Array.from({ length: 2_000 }, () => hub.connect({ scope: 'acme', sink: new RecordingSink() }));
    const first = await hub.invalidate('acme', { resource: 'orders', id: 'first' });
    await vi.runAllTimersAsync();
    for (let i = 0; i < 10; i++) void hub.invalidate('acme', { resource: 'orders', id: `burst-${i}` });
    // Entries are queued behind the budget; a client resumes from `first` right now.
    const resumed = new RecordingSink();
    hub.connect({ scope: 'acme', sink: resumed, lastEventId: first.cursor });
    await vi.runAllTimersAsync();
    const ids = resumed.data.map((m) => (m.kind === 'invalidate' ? m.id : m.kind));
    expect(ids).toEqual(Array.from({ length: 10 }, (_, i) => `burst-${i}`));
    expect(many).toHaveLength(2_000);
  });
});
