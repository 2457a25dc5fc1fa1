import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createHub,
  createMemoryBackend,
  createMemoryReplayLog,
  type LiveBackend,
  type PublishedEntry,
  type ReplayResult,
} from 'trpc-live/core';
import { connectSink, endOfTick, fakeHub } from './fixtures';

let seq = 0;
const entry = (scope: string, key: string, extra: Partial<PublishedEntry> = {}): PublishedEntry => {
  seq++;
  return {
    scope,
    topic: 'orders',
    lane: 'instant',
    signal: { kind: 'invalidate', resource: 'orders', id: key, action: 'changed' },
    key: `orders|i|orders|${key}`,
    epoch: 'e1',
    seq,
    ...extra,
  };
};
const keysOf = (result: ReplayResult) => (result.ok ? result.entries.map((e) => (e.signal.kind === 'invalidate' ? e.signal.id : '?')) : result.reason);

describe('replay log', () => {
  beforeEach(() => {
    seq = 0;
  });

  it('keeps one entry per key, the latest, in publish order', () => {
    const log = createMemoryReplayLog('e1');
    for (let i = 0; i < 50; i++) log.append(entry('acme', `k${i % 5}`));
    const result = log.since('acme', 'e1', 0);
    expect(keysOf(result)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect(result.ok && result.entries.map((e) => e.seq)).toEqual([46, 47, 48, 49, 50]);
    expect(log.size).toBe(5);
  });

  it('holds memory proportional to distinct keys, not to events', () => {
    const log = createMemoryReplayLog('e1');
    for (let i = 0; i < 10_000; i++) log.append(entry('acme', `k${i % 10}`));
    expect(log.size).toBe(10);
    expect(log.head).toBe(10_000);
  });

  it('serves only what changed after the cursor', () => {
    const log = createMemoryReplayLog('e1');
    for (const key of ['a', 'b', 'c', 'a']) log.append(entry('acme', key)); // seqs 1..4
    expect(keysOf(log.since('acme', 'e1', 2))).toEqual(['c', 'a']);
    expect(keysOf(log.since('acme', 'e1', 4))).toEqual([]);
  });

  it('keeps scopes apart', () => {
    const log = createMemoryReplayLog('e1');
    log.append(entry('acme', 'a'));
    log.append(entry('globex', 'b'));
    expect(keysOf(log.since('acme', 'e1', 0))).toEqual(['a']);
    expect(keysOf(log.since('initech', 'e1', 0))).toEqual([]);
  });

  it('evicts the oldest keys past maxKeysPerScope and answers older cursors with evicted', () => {
    const log = createMemoryReplayLog('e1', { maxKeysPerScope: 3 });
    for (const key of ['k1', 'k2', 'k3', 'k4', 'k5']) log.append(entry('acme', key));
    expect(log.size).toBe(3);
    expect(keysOf(log.since('acme', 'e1', 0))).toBe('evicted');
    expect(keysOf(log.since('acme', 'e1', 1))).toBe('evicted');
    expect(keysOf(log.since('acme', 'e1', 2))).toEqual(['k3', 'k4', 'k5']);
  });

  it('does not count a superseded entry as evicted', () => {
    const log = createMemoryReplayLog('e1', { maxKeysPerScope: 2 });
    for (const key of ['a', 'b', 'a', 'b', 'a']) log.append(entry('acme', key));
    expect(keysOf(log.since('acme', 'e1', 0))).toEqual(['b', 'a']);
  });

  it('evicts entries older than maxAgeMs and answers cursors before them with evicted', () => {
    let now = 0;
    const log = createMemoryReplayLog('e1', { maxAgeMs: 1000, now: () => now });
    log.append(entry('acme', 'old')); // seq 1 at 0
    now = 600;
    log.append(entry('acme', 'new')); // seq 2 at 600
    now = 1200;
    expect(keysOf(log.since('acme', 'e1', 0))).toBe('evicted');
    expect(keysOf(log.since('acme', 'e1', 1))).toEqual(['new']);
    now = 1700;
    expect(keysOf(log.since('acme', 'e1', 1))).toBe('evicted');
    expect(keysOf(log.since('acme', 'e1', 2))).toEqual([]);
  });

  it('answers a cursor of another epoch with epoch, and one beyond the head with unknown-cursor', () => {
    const log = createMemoryReplayLog('e1');
    log.append(entry('acme', 'a'));
    expect(keysOf(log.since('acme', 'e0', 0))).toBe('epoch');
    expect(keysOf(log.since('acme', 'e1', 2))).toBe('unknown-cursor');
  });

  it('compacts its internal order after heavy churn and still answers correctly', () => {
    const log = createMemoryReplayLog('e1', { maxKeysPerScope: 50 });
    for (let i = 0; i < 5000; i++) log.append(entry('acme', `k${i % 80}`));
    const result = log.since('acme', 'e1', 4950);
    expect(result.ok && result.entries.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 4951 + i));
    expect(keysOf(log.since('acme', 'e1', 4949))).toBe('evicted');
  });

  it('refuses nonsensical bounds', () => {
    expect(() => createMemoryReplayLog('e1', { maxKeysPerScope: 0 })).toThrowError(/maxKeysPerScope/);
    expect(() => createMemoryReplayLog('e1', { maxAgeMs: -1 })).toThrowError(/maxAgeMs/);
  });

  it('lets a custom ReplayStore replace the in-memory one', async () => {
    const appended: PublishedEntry[] = [];
    const backend = createMemoryBackend({
      epoch: 'custom',
      replayStore: (epoch) => ({
        append: (e) => appended.push(e),
        since: (_scope, cursorEpoch) => (cursorEpoch === epoch ? { ok: true, entries: appended } : { ok: false, reason: 'epoch' }),
      }),
    });
    const hub = createHub({ backend });
    await hub.invalidate('acme', { resource: 'orders', id: '1' });
    expect(appended).toHaveLength(1);
    expect(backend.since('acme', 'custom', 0)).toEqual({ ok: true, entries: appended });
  });
});

describe('replay through the hub', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('replays the distinct keys changed since the cursor, once, then goes live', async () => {
    const { hub, counts } = fakeHub();
    const first = await hub.invalidate('acme', { resource: 'orders', id: 'before' });
    for (let i = 0; i < 50; i++) await hub.invalidate('acme', { resource: 'orders', id: `k${i % 5}` });
    await hub.invalidate('globex', { resource: 'orders', id: 'other-tenant' });
    const { sink } = connectSink(hub, { lastEventId: first.cursor });
    expect(sink.data.map((m) => m.kind === 'invalidate' && m.id)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    await hub.invalidate('acme', { resource: 'orders', id: 'live' });
    endOfTick();
    expect(sink.data.map((m) => m.kind === 'invalidate' && m.id)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'live']);
    expect(counts.replay).toEqual([[true, 5]]);
  });

  it('hands out a cursor (hub.cursor) from which a stream gets exactly what was published after it was read', async () => {
    const { hub } = fakeHub();
    // Nothing published yet: the cursor still resumes without a reset.
    const empty = hub.cursor();
    expect(empty).toBe(`${hub.stats().epoch}:0`);
    await hub.invalidate('acme', { resource: 'orders', id: 'seen-by-render' });
    await hub.invalidate('globex', { resource: 'orders', id: 'other-tenant' });
    const cursor = hub.cursor();
    await hub.invalidate('acme', { resource: 'orders', id: 'in-the-gap' });
    const { sink } = connectSink(hub, { lastEventId: cursor });
    expect(sink.data.map((m) => m.kind === 'invalidate' && m.id)).toEqual(['in-the-gap']);
    const { sink: fromEmpty } = connectSink(hub, { lastEventId: empty });
    expect(fromEmpty.data.map((m) => m.kind === 'invalidate' && m.id)).toEqual(['seen-by-render', 'in-the-gap']);
  });

  it.each([
    ['a malformed cursor', () => 'garbage', 'unknown-cursor'],
    ['a cursor of another epoch (a restarted server)', () => 'otherepoch:3', 'epoch'],
    ['a cursor beyond the head', (epoch: string) => `${epoch}:999`, 'unknown-cursor'],
  ])('answers %s with one reset at the head', async (_what, cursor, reason) => {
    const { hub, counts } = fakeHub();
    const head = await hub.invalidate('acme', { resource: 'orders' });
    const { sink } = connectSink(hub, { lastEventId: cursor(head.epoch) });
    expect(sink.data).toEqual([{ kind: 'reset', reason, seq: head.seq }]);
    expect(sink.frames.at(-1)!.id).toBe(head.cursor);
    expect(counts.replay).toEqual([[false, 0]]);
  });

  it('answers an evicted cursor with one reset', async () => {
    const { hub } = fakeHub({ backend: createMemoryBackend({ maxKeysPerScope: 3 }) });
    const first = await hub.invalidate('acme', { resource: 'orders', id: 'x0' });
    for (let i = 1; i <= 5; i++) await hub.invalidate('acme', { resource: 'orders', id: `x${i}` });
    const { sink } = connectSink(hub, { lastEventId: first.cursor });
    expect(sink.data).toEqual([{ kind: 'reset', reason: 'evicted', seq: 6 }]);
  });

  it('answers a replay larger than the dirty-key bound with one reset instead', async () => {
    const { hub } = fakeHub({ limits: { maxDirtyKeys: 10 } });
    const first = await hub.invalidate('acme', { resource: 'orders', id: 'x' });
    for (let i = 0; i < 11; i++) await hub.invalidate('acme', { resource: 'orders', id: `k${i}` });
    const { sink } = connectSink(hub, { lastEventId: first.cursor });
    expect(sink.data).toEqual([{ kind: 'reset', reason: 'overflow', seq: 12 }]);
  });

  it('still replays progress, completion and events past the bound, before the reset', async () => {
    const { hub } = fakeHub({ limits: { maxDirtyKeys: 10 } });
    const first = await hub.invalidate('acme', { resource: 'orders', id: 'x' });
    await hub.progress('acme', 'import', 100, 100);
    await hub.signal('acme', 'notifications', { text: 'done' });
    for (let i = 0; i < 11; i++) await hub.invalidate('acme', { resource: 'orders', id: `k${i}` });
    const { sink } = connectSink(hub, { lastEventId: first.cursor });
    expect(sink.data.map((m) => m.kind)).toEqual(['progress', 'event', 'reset']);
    expect(sink.frames.at(-1)!.id).toBe(`${first.epoch}:14`);
  });

  it('keeps the final progress values over events when even those overflow the bound', async () => {
    const { hub, counts } = fakeHub({ limits: { maxDirtyKeys: 2 } });
    const first = await hub.invalidate('acme', { resource: 'orders', id: 'x' });
    await hub.progress('acme', 'import', 100, 100);
    for (let i = 0; i < 3; i++) await hub.signal('acme', 'notifications', { n: i });
    const { sink } = connectSink(hub, { lastEventId: first.cursor });
    expect(sink.data.map((m) => m.kind)).toEqual(['progress', 'reset']);
    expect(counts.dropped).toBe(3);
  });

  it('does not send twice an entry a connection opened during its delivery already got by replay', async () => {
    const { hub } = fakeHub();
    const first = await hub.invalidate('acme', { resource: 'orders', id: 'a' });
    let late: ReturnType<typeof connectSink> | undefined;
    hub.tap(() => {
      late ??= connectSink(hub, { lastEventId: first.cursor });
    });
    await hub.invalidate('acme', { resource: 'orders', id: 'b' });
    endOfTick();
    expect(late!.sink.data.map((m) => m.kind === 'invalidate' && m.id)).toEqual(['b']);
  });

  describe('with an asynchronous backend', () => {
    /** The memory backend, with `since` answered later: the snapshot is taken `early` (at the call) or `late` (at the answer). */
    function slowBackend(snapshot: 'early' | 'late') {
      const inner = createMemoryBackend({ epoch: 'slow' });
      const pending: Array<() => void> = [];
      const backend: LiveBackend = {
        ...inner,
        name: 'slow',
        since(scope, epoch, afterSeq) {
          const early = inner.since(scope, epoch, afterSeq);
          return new Promise<ReplayResult>((resolve) =>
            pending.push(() => resolve(snapshot === 'early' ? (early as ReplayResult) : (inner.since(scope, epoch, afterSeq) as ReplayResult))),
          );
        },
      };
      return { backend, answer: () => pending.shift()!() };
    }

    it.each(['early', 'late'] as const)(
      'misses nothing and sends nothing twice when signals arrive while the snapshot (%s) is read',
      async (snapshot) => {
        const { backend, answer } = slowBackend(snapshot);
        const hub = createHub({ backend });
        const first = await hub.invalidate('acme', { resource: 'orders', id: 'a' });
        await hub.invalidate('acme', { resource: 'orders', id: 'b' }); // before connecting: replay
        const { sink } = connectSink(hub, { lastEventId: first.cursor });
        await hub.invalidate('acme', { resource: 'orders', id: 'c' }); // while the replay is read
        await hub.invalidate('acme', { resource: 'orders', id: 'b' });
        endOfTick();
        expect(sink.data).toEqual([]); // held until the replay is written
        answer();
        await Promise.resolve();
        endOfTick();
        await hub.invalidate('acme', { resource: 'orders', id: 'd' });
        endOfTick();
        const ids = sink.data.map((m) => (m.kind === 'invalidate' ? `${m.id}@${m.seq}` : m.kind));
        // Every key's latest value arrives exactly once, in seq order.
        expect(ids).toEqual(snapshot === 'early' ? ['b@2', 'c@3', 'b@4', 'd@5'] : ['c@3', 'b@4', 'd@5']);
      },
    );

    it('sends a reset when the asynchronous replay fails', async () => {
      const inner = createMemoryBackend({ epoch: 'flaky' });
      const hub = createHub({ backend: { ...inner, since: () => Promise.reject(new Error('down')) } });
      const { sink } = connectSink(hub, { lastEventId: 'flaky:0' });
      await Promise.resolve();
      await Promise.resolve();
      endOfTick();
      expect(sink.data).toEqual([{ kind: 'reset', reason: 'gap', seq: 0 }]);
    });
  });
});

/** A backend whose epoch the test switches (history lost); each epoch's seqs start at 1. */
function switchingBackend(initial: string, since: () => any) {
  let epoch = initial;
  let seq = 0;
  let listener: { deliver(entry: any): void } | null = null;
  const backend = {
    name: 'switching',
    epoch: () => epoch,
    attach: (l: { deliver(entry: any): void }) => void (listener = l),
    publish: (request: any) => {
      const entry = { ...request, key: request.key ?? `#${seq + 1}`, epoch, seq: ++seq };
      listener!.deliver(entry);
      return entry;
    },
    since,
    close: async () => undefined,
  };
  return {
    backend,
    startEpoch(next: string) {
      epoch = next;
      seq = 0;
    },
  };
}

describe('regression: reset cursor after an epoch change', () => {
  it('points a reset at the new epoch head, not at a seq carried over from the old epoch', async () => {
    const { createHub } = await import('trpc-live/core');
    const { RecordingSink } = await import('../../helpers/sink');
    const { backend, startEpoch } = switchingBackend('old', () => ({ ok: false as const, reason: 'epoch' as const }));
    const hub = createHub({ backend });
    for (let i = 0; i < 100; i++) await hub.invalidate('acme', { resource: 'orders', id: String(i) });
    // History lost: a new epoch starts again at 1.
    startEpoch('new');
    await hub.invalidate('acme', { resource: 'orders', id: 'fresh' });
    const sink = new RecordingSink();
    hub.connect({ scope: 'acme', sink, lastEventId: 'old:50' });
    const reset = sink.frames.find((f) => f.message.kind === 'reset')!;
    expect(reset.id).toBe('new:1');
  });
});

describe('regression: a starting or replayed cursor only covers its own epoch', () => {
  it('keeps delivering frames of a new epoch whose seqs are lower than the cursor the stream started from', async () => {
    const { createHub } = await import('trpc-live/core');
    const { RecordingSink } = await import('../../helpers/sink');
    const { backend, startEpoch } = switchingBackend('shared', () => ({ ok: true as const, entries: [] }));
    const hub = createHub({ backend });
    for (let i = 0; i < 50; i++) await hub.invalidate('acme', { resource: 'orders', id: String(i) });
    const sink = new RecordingSink();
    hub.connect({ scope: 'acme', sink });
    expect(sink.frames[0]!.id).toBe('shared:50');
    // The shared backend goes away: a local epoch starts again at 1 (as the Redis fallback does).
    startEpoch('local');
    await hub.invalidate('acme', { resource: 'orders', id: 'during-outage' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(sink.data).toMatchObject([{ kind: 'invalidate', id: 'during-outage', seq: 1 }]);
  });
});
