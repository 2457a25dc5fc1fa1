import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHub, type Hub } from 'trpc-live/core';
import { defineResources, defineTopics, liveEvent, liveJob, type LiveMessage } from 'trpc-live/shared';
import { captureInvalidations } from 'trpc-live/testing';
import { createLive, createPublisher } from 'trpc-live/trpc';
import { publishersOf } from '../../../packages/trpc-live/src/trpc/publisherRecords';
import { RecordingSink } from '../../helpers/sink';

// The publisher for code outside procedures: what it sends is read back from a real hub, through a
// connection's sink (the bytes' messages) or the hub's tap, never from the publisher itself. The
// compile-time half is publisher.test-d.ts.

const resources = defineResources({
  orders: { queries: [{ path: 'orders.list' }, { path: 'orders.byId', by: 'id' }] },
  invoices: { id: 'number', queries: [{ path: 'invoices.byNumber', by: 'number' }] },
  imports: { queries: [{ path: 'imports.list' }] },
});
const topics = defineTopics({
  notifications: liveEvent<{ id: string; title: string }>(),
  imports: liveJob<{ imported: number }, { imported: number; failed: number }>(),
});

/** Loosens a publisher's types: the runtime checks are what these tests prove. */
const untyped = (value: unknown) => value as any;

describe('publisher', () => {
  let hub: Hub;
  beforeEach(() => {
    vi.useFakeTimers();
    hub = createHub();
  });
  afterEach(() => vi.useRealTimers());

  const worker = () =>
    createLive<object, typeof resources, typeof topics>({ hub, resources, topics }).publisher('import-worker', {
      invalidates: ['orders', 'imports'],
      publishes: ['imports', 'notifications'],
    });

  it('delivers exactly the declared signals to a connection of the scope, readable with the same declarations', async () => {
    const sink = new RecordingSink();
    hub.connect({ scope: 'acme', sink });
    const other = new RecordingSink();
    hub.connect({ scope: 'globex', sink: other });
    const publisher = worker();
    await publisher.progress('acme', 'imports', 'imp_1', 40, 100, { imported: 38 });
    await publisher.complete('acme', 'imports', 'imp_1', true, { imported: 98, failed: 2 });
    await publisher.invalidate('acme', 'orders', { action: 'created' });
    await publisher.invalidate('acme', 'imports', 'imp_1', { action: 'updated' });
    await publisher.event('acme', 'notifications', { id: 'n1', title: 'Imported 98 orders' });
    vi.runAllTimers();
    const kinds = sink.data.map((m) => m.kind);
    expect(kinds.toSorted()).toEqual(['complete', 'event', 'invalidate', 'invalidate', 'progress']);
    expect(sink.data).toContainEqual(expect.objectContaining({ kind: 'progress', key: 'imports.imp_1', current: 40, total: 100, extra: { imported: 38 } }));
    expect(sink.data).toContainEqual(expect.objectContaining({ kind: 'invalidate', resource: 'orders', action: 'created' }));
    expect(sink.data).toContainEqual(expect.objectContaining({ kind: 'invalidate', resource: 'imports', id: 'imp_1', action: 'updated' }));
    expect(other.data).toEqual([]);
    // Lanes may reorder (completion is instant, progress coalesced): compare in publish order.
    const updates = (sink.data as LiveMessage[]).map((m) => topics.imports.parse(m)).filter((u) => u !== null).sort((a, b) => a.seq - b.seq);
    expect(updates.map(({ seq: _, ...u }) => u)).toEqual([
      { kind: 'progress', id: 'imp_1', current: 40, total: 100, extra: { imported: 38 } },
      { kind: 'complete', id: 'imp_1', ok: true, extra: { imported: 98, failed: 2 } },
    ]);
    const events = (sink.data as LiveMessage[]).map((m) => topics.notifications.parse(m)).filter((e) => e !== null);
    expect(events.map((e) => e.data)).toEqual([{ id: 'n1', title: 'Imported 98 orders' }]);
  });

  it('publishes invalidations the way captureInvalidations reports a mutation', async () => {
    const publisher = worker();
    const published = await captureInvalidations(hub, async () => {
      await publisher.invalidate('acme', 'orders', 'ord_1');
      await publisher.invalidate('acme', 'imports');
      await publisher.invalidate('acme', 'imports', undefined, { action: 'deleted', hint: { n: 1 } });
    });
    expect(published).toEqual([
      { scope: 'acme', resource: 'orders', id: 'ord_1', action: 'changed' },
      { scope: 'acme', resource: 'imports', action: 'changed' },
      { scope: 'acme', resource: 'imports', action: 'deleted', hint: { n: 1 } },
    ]);
  });

  it('refuses a resource it did not declare, naming it, and publishes nothing', async () => {
    const publisher = untyped(worker());
    const entries: unknown[] = [];
    hub.tap((entry) => entries.push(entry));
    await expect(publisher.invalidate('acme', 'invoices', 1)).rejects.toMatchObject({
      name: 'LiveError',
      code: 'BAD_SIGNAL',
      message: 'Publisher "import-worker": "invoices" is not one of the resources it declares (orders, imports); add it to its invalidates',
    });
    await expect(publisher.invalidate('acme', 'ordrs')).rejects.toThrow('unknown resource "ordrs" is not one of the resources it declares');
    await expect(publisher.event('acme', 'imports', {})).rejects.toThrow('"imports" is not one of the event topics it declares (notifications)');
    await expect(publisher.progress('acme', 'notifications', 'x', 1, 2)).rejects.toThrow('"notifications" is not one of the jobs it declares (imports)');
    expect(entries).toEqual([]);
  });

  it('refuses an id of the wrong kind for the resource and a job id that is not one token', async () => {
    const publisher = untyped(createPublisher({ name: 'billing', hub, resources, invalidates: ['invoices', 'orders'], topics, publishes: ['imports'] }));
    await expect(publisher.invalidate('acme', 'invoices', '42')).rejects.toThrow('resource "invoices" takes number ids, got string "42"');
    await expect(publisher.invalidate('acme', 'orders', 42)).rejects.toThrow('resource "orders" takes string ids, got number 42');
    await expect(publisher.progress('acme', 'imports', 'a.b', 1, 2)).rejects.toMatchObject({ code: 'BAD_TOPIC' });
    await expect(publisher.invalidate('acme', 'invoices', 42)).resolves.toMatchObject({ seq: 1 });
  });

  it('refuses at creation a declared resource or topic the registries lack, and a binding without resources', () => {
    const live = createLive<object, typeof resources, typeof topics>({ hub, resources, topics });
    expect(() => live.publisher('bad', untyped({ invalidates: ['orders', 'nope'] }))).toThrow(
      'Publisher "bad": invalidates unknown resource "nope" (the registry has orders, invoices, imports)',
    );
    expect(() => live.publisher('bad', untyped({ publishes: ['exports'] }))).toThrow('publishes undeclared topic "exports" (declared: notifications, imports)');
    expect(() => live.publisher('', {})).toThrow('A publisher needs a name');
    expect(() => createLive<object>({ hub }).publisher('x', untyped({ invalidates: ['orders'] }))).toThrow('needs createLive({ resources })');
  });

  it('publishes to another hub with withHub, keeping its declaration', async () => {
    const publisher = worker();
    const elsewhere = createHub();
    const here = await captureInvalidations(hub, () =>
      captureInvalidations(elsewhere, () => publisher.withHub(elsewhere).invalidate('acme', 'orders')).then((there) => {
        expect(there).toEqual([{ scope: 'acme', resource: 'orders', action: 'changed' }]);
      }),
    );
    expect(here).toEqual([]);
    await expect(untyped(publisher.withHub(elsewhere)).invalidate('acme', 'invoices')).rejects.toThrow('not one of the resources it declares');
  });

  it('records each publisher under its registry for trpc-live check, a redeclaration replacing the first', () => {
    const registry = defineResources({ orders: { queries: [{ path: 'orders.list' }] } });
    const live = createLive<object, typeof registry, typeof topics>({ hub, resources: registry, topics });
    live.publisher('nightly', { invalidates: ['orders'] });
    live.publisher('cron', { invalidates: ['orders'], publishes: ['notifications'] });
    live.publisher('nightly', { invalidates: ['orders'], publishes: ['imports'] });
    expect(publishersOf(registry)).toEqual([
      { name: 'cron', invalidates: ['orders'], publishes: [{ name: 'notifications', kind: 'event' }] },
      { name: 'nightly', invalidates: ['orders'], publishes: [{ name: 'imports', kind: 'job' }] },
    ]);
    expect(publishersOf(defineResources({ ...registry }))).toEqual([]);
  });
});

describe('defineTopics', () => {
  it('builds and parses job keys, ignoring other jobs, deeper keys and other kinds', () => {
    expect(topics.imports.key('imp_1')).toBe('imports.imp_1');
    expect(topics.imports.pattern).toBe('imports.*');
    expect(() => topics.imports.key('a.b')).toThrow('Job "imports": the id "a.b" must be one topic token');
    expect(() => topics.imports.key('a b')).toThrow(/Topic "imports.a b"/);
    const progress = (key: string): LiveMessage => ({ kind: 'progress', key, current: 1, total: 2, seq: 1 });
    expect(topics.imports.parse(progress('imports.x'))).toMatchObject({ kind: 'progress', id: 'x' });
    expect(topics.imports.parse(progress('exports.x'))).toBeNull();
    expect(topics.imports.parse(progress('imports.x.y'))).toBeNull();
    expect(topics.imports.parse(progress('importsx'))).toBeNull();
    expect(topics.imports.parse({ kind: 'event', topic: 'imports.x', seq: 1 })).toBeNull();
    expect(topics.notifications.parse({ kind: 'event', topic: 'notifications.x', seq: 1 })).toBeNull();
    expect(topics.notifications.parse({ kind: 'event', topic: 'notifications', data: { id: 'n' }, seq: 3 })).toEqual({
      topic: 'notifications',
      data: { id: 'n' },
      seq: 3,
    });
  });

  it('refuses a name that is not a topic and a declaration of neither kind', () => {
    expect(() => defineTopics({ 'bad topic': liveEvent() })).toThrow(/Topic "bad topic"/);
    expect(() => defineTopics({ 'imports.*': liveJob() })).toThrow(/wildcard/);
    expect(() => defineTopics(untyped({ x: {} }))).toThrow('Topic "x": declare it with liveEvent<T>() or liveJob<P, R>()');
  });
});
