import { afterEach, describe, expect, it } from 'vitest';
import {
  createHub,
  parseCursor,
  type BackendListener,
  type LiveBackend,
  type LiveSignal,
  type PublishedEntry,
  type PublishRequest,
  type ResetReason,
} from 'trpc-live/core';
import { RecordingSink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

/** What a contract run needs from an implementation. */
export interface BackendContractOptions {
  /** Shown in the suite name. */
  name: string;
  /**
   * A backend with its own empty history, ready to publish. `historyLimit`:
   * how many distinct keys (each published once) a scope keeps before the
   * oldest are evicted.
   */
  createBackend(options: { historyLimit?: number }): LiveBackend | Promise<LiveBackend>;
}

/** A listener that records what the backend drives. */
function recorder() {
  const delivered: PublishedEntry[] = [];
  const gaps: ResetReason[] = [];
  const listener: BackendListener = {
    deliver: (entry) => delivered.push(entry),
    gap: (reason) => gaps.push(reason),
  };
  return { delivered, gaps, listener };
}

const invalidate = (resource: string, id?: string): LiveSignal => ({
  kind: 'invalidate',
  resource,
  action: 'updated',
  ...(id === undefined ? {} : { id }),
});

/** A request as the hub builds it (topic = resource, key = `<topic>|i|<resource>|<id>`). */
function request(scope: string, resource: string, id?: string, extra: Partial<PublishRequest> = {}): PublishRequest {
  return {
    scope,
    topic: resource,
    lane: 'instant',
    signal: invalidate(resource, id),
    key: id === undefined ? `${resource}|i|${resource}` : `${resource}|i|${resource}|${id}`,
    ...extra,
  };
}

/** What a test compares: the routing facts and the signal, not cache slots. */
const facts = (entry: PublishedEntry) => ({
  scope: entry.scope,
  topic: entry.topic,
  lane: entry.lane,
  key: entry.key,
  signal: entry.signal,
  epoch: entry.epoch,
  seq: entry.seq,
  ...(entry.groups ? { groups: entry.groups } : {}),
});

/**
 * The behaviour every {@link LiveBackend} must have, whatever it is built on
 * (memory, Redis…): sequencing, delivery, compacted replay and the reasons
 * for a reset. Run once per implementation.
 */
export function runBackendContract(options: BackendContractOptions): void {
  describe(`backend contract: ${options.name}`, () => {
    const open: LiveBackend[] = [];
    const make = async (limits: { historyLimit?: number } = {}) => {
      const backend = await options.createBackend(limits);
      open.push(backend);
      return backend;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((backend) => backend.close()));
    });

    it('sequences publishes one by one within one epoch that a cursor can carry', async () => {
      const backend = await make();
      backend.attach(recorder().listener);
      const first = await backend.publish(request('acme', 'orders', '1'));
      const second = await backend.publish(request('acme', 'orders', '2'));
      const third = await backend.publish(request('globex', 'orders', '1'));
      expect([second.seq - first.seq, third.seq - second.seq]).toEqual([1, 1]);
      expect(new Set([first.epoch, second.epoch, third.epoch])).toEqual(new Set([backend.epoch()]));
      expect(parseCursor(`${first.epoch}:${first.seq}`)).toEqual({ epoch: first.epoch, seq: first.seq, beyond: [] });
    });

    it('delivers every published entry to the attached listener once, in seq order, with its routing facts', async () => {
      const backend = await make();
      const { delivered, listener } = recorder();
      backend.attach(listener);
      const published = [
        await backend.publish(request('acme', 'orders', '1', { groups: { role: ['admin', 'staff'] } })),
        await backend.publish({ scope: 'acme', topic: 'notifications', lane: 'batched', key: null, signal: { kind: 'event', topic: 'notifications', data: { text: 'hi', n: [1, 2] } } }),
        await backend.publish({ scope: 'acme', topic: 'imports.7', lane: 'coalesced', key: 'imports.7|p|imports.7', signal: { kind: 'progress', key: 'imports.7', current: 3, total: 9, extra: { failed: 0 } } }),
      ];
      await waitFor(() => delivered.length >= 3, 'three deliveries');
      expect(delivered.map(facts)).toEqual(published.map(facts));
      expect(delivered[1]!.key).toBe(`#${published[1]!.seq}`);
      expect(delivered[0]!.groups).toEqual({ role: ['admin', 'staff'] });
    });

    it('replays the entries of a scope after a cursor, oldest first, keeping only the latest per key', async () => {
      const backend = await make();
      backend.attach(recorder().listener);
      const cursor = await backend.publish(request('acme', 'orders', '0'));
      const a1 = await backend.publish(request('acme', 'orders', '1'));
      await backend.publish(request('globex', 'orders', '1'));
      const b = await backend.publish(request('acme', 'orders', '2'));
      const a2 = await backend.publish(request('acme', 'orders', '1', { signal: { kind: 'invalidate', resource: 'orders', id: '1', action: 'deleted' } }));
      const event = await backend.publish({ scope: 'acme', topic: 'notifications', lane: 'instant', key: null, signal: { kind: 'event', topic: 'notifications' } });
      const result = await backend.since('acme', cursor.epoch, cursor.seq);
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.entries.map(facts)).toEqual([b, a2, event].map(facts));
      expect(result.entries.map((e) => e.seq)).not.toContain(a1.seq);
    });

    it('replays nothing when the cursor is at the head', async () => {
      const backend = await make();
      backend.attach(recorder().listener);
      await backend.publish(request('acme', 'orders', '1'));
      const head = await backend.publish(request('acme', 'orders', '2'));
      expect(await backend.since('acme', head.epoch, head.seq)).toEqual({ ok: true, entries: [] });
    });

    it('replays nothing for a scope that never had a signal', async () => {
      const backend = await make();
      backend.attach(recorder().listener);
      const head = await backend.publish(request('acme', 'orders', '1'));
      expect(await backend.since('initech', head.epoch, 0)).toEqual({ ok: true, entries: [] });
    });

    it('answers epoch when the cursor is from another history', async () => {
      const backend = await make();
      backend.attach(recorder().listener);
      const head = await backend.publish(request('acme', 'orders', '1'));
      expect(await backend.since('acme', `${head.epoch}x`, 0)).toEqual({ ok: false, reason: 'epoch' });
    });

    it('answers unknown-cursor when the cursor is beyond the head', async () => {
      const backend = await make();
      backend.attach(recorder().listener);
      const head = await backend.publish(request('acme', 'orders', '1'));
      expect(await backend.since('acme', head.epoch, head.seq + 1)).toEqual({ ok: false, reason: 'unknown-cursor' });
    });

    it('answers evicted when entries after the cursor were dropped to bound history, and replays from the eviction point', async () => {
      const backend = await make({ historyLimit: 4 });
      backend.attach(recorder().listener);
      const start = await backend.publish(request('acme', 'orders', '0'));
      const entries: PublishedEntry[] = [];
      for (let i = 1; i <= 6; i++) entries.push(await backend.publish(request('acme', 'orders', String(i))));
      // 7 distinct keys, 4 kept: ids 0, 1 and 2 were evicted.
      expect(await backend.since('acme', start.epoch, start.seq)).toEqual({ ok: false, reason: 'evicted' });
      expect(await backend.since('acme', start.epoch, entries[0]!.seq)).toEqual({ ok: false, reason: 'evicted' });
      const fromFloor = await backend.since('acme', start.epoch, entries[1]!.seq);
      expect(fromFloor.ok && fromFloor.entries.map((e) => e.signal)).toEqual(entries.slice(2).map((e) => e.signal));
    });

    it('bounds history per scope: a busy scope does not evict a quiet one', async () => {
      const backend = await make({ historyLimit: 2 });
      backend.attach(recorder().listener);
      const start = await backend.publish(request('quiet', 'orders', 'q'));
      for (let i = 0; i < 5; i++) await backend.publish(request('busy', 'orders', String(i)));
      const quiet = await backend.since('quiet', start.epoch, 0);
      expect(quiet.ok && quiet.entries.map((e) => e.seq)).toEqual([start.seq]);
    });

    it('serves a reconnecting hub connection exactly the keys it missed, then live signals', async () => {
      const backend = await make();
      const hub = createHub({ backend });
      const first = new RecordingSink();
      const connection = hub.connect({ scope: 'acme', sink: first });
      const seen = await hub.invalidate('acme', { resource: 'orders', id: 'seen' });
      await waitFor(() => first.data.length === 1, 'the first signal on the first connection');
      connection.dispose();
      await hub.invalidate('acme', { resource: 'orders', id: 'missed-1' });
      await hub.invalidate('acme', { resource: 'products', id: 'missed-2' });
      await hub.invalidate('globex', { resource: 'orders', id: 'other-tenant' });
      const again = new RecordingSink();
      hub.connect({ scope: 'acme', sink: again, lastEventId: seen.cursor });
      await waitFor(() => again.data.length === 2, 'the replay');
      const live = await hub.invalidate('acme', { resource: 'orders', id: 'live' });
      await waitFor(() => again.data.length === 3, 'the live signal after the replay');
      expect(again.data.map((m) => (m.kind === 'invalidate' ? m.id : m.kind))).toEqual(['missed-1', 'missed-2', 'live']);
      expect(again.frames.at(-1)!.id).toBe(live.cursor);
      await hub.close();
    });

    it('resets a reconnecting hub connection whose cursor is from another epoch', async () => {
      const backend = await make();
      const hub = createHub({ backend });
      await hub.invalidate('acme', { resource: 'orders', id: '1' });
      const sink = new RecordingSink();
      hub.connect({ scope: 'acme', sink, lastEventId: 'someotherepoch:1' });
      await waitFor(() => sink.data.length === 1, 'the reset');
      expect(sink.data[0]).toMatchObject({ kind: 'reset', reason: 'epoch' });
      await hub.close();
    });
  });
}
