import { describe, expectTypeOf, it } from 'vitest';
import { createHub, type PublishReceipt } from 'trpc-live/core';
import { defineResources, defineTopics, liveEvent, liveJob, type LiveMessage } from 'trpc-live/shared';
import { createLive, createPublisher } from 'trpc-live/trpc';

// What the compiler refuses about publishing outside a procedure: a wrong resource, id type, topic
// or payload. The runtime half (the same mistakes through a cast) is publisher.test.ts.

const resources = defineResources({
  orders: { queries: [{ path: 'orders.list' }] },
  invoices: { id: 'number', queries: [{ path: 'invoices.byNumber', by: 'number' }] },
});
type Toast = { id: string; title: string };
const topics = defineTopics({
  notifications: liveEvent<Toast>(),
  ping: liveEvent(),
  imports: liveJob<{ imported: number }, { imported: number; failed: number }>(),
});
const live = createLive<object, typeof resources, typeof topics>({ hub: createHub(), resources, topics });
const worker = live.publisher('worker', { invalidates: ['orders', 'invoices'], publishes: ['notifications', 'ping', 'imports'] });

describe('publisher types', () => {
  it('types resource names and id kinds by the registry', () => {
    expectTypeOf(worker.invalidate('acme', 'orders', 'o1')).toEqualTypeOf<Promise<PublishReceipt>>();
    void worker.invalidate('acme', 'invoices', 42, { action: 'updated' });
    void worker.invalidate('acme', 'invoices', { action: 'deleted' });
    void worker.invalidate('acme', 'invoices', undefined, { action: 'deleted' });
    // @ts-expect-error not an action
    void worker.invalidate('acme', 'invoices', { action: 'exploded' });
    // @ts-expect-error not a resource of the registry
    void worker.invalidate('acme', 'ordres');
    // @ts-expect-error invoices take number ids
    void worker.invalidate('acme', 'invoices', '42');
    // @ts-expect-error orders take string ids
    void worker.invalidate('acme', 'orders', 7);
  });

  it('allows only what the publisher declared', () => {
    const narrow = live.publisher('narrow', { invalidates: ['orders'] });
    void narrow.invalidate('acme', 'orders');
    // @ts-expect-error invoices is in the registry but not declared by this publisher
    void narrow.invalidate('acme', 'invoices');
    // @ts-expect-error no topic declared
    void narrow.event('acme', 'notifications', { id: 'n1', title: 'Hi' });
    // @ts-expect-error declaring a resource the registry lacks
    live.publisher('bad', { invalidates: ['nope'] });
    // @ts-expect-error declaring a topic the topics lack
    live.publisher('bad', { publishes: ['nope'] });
  });

  it('types event data and job extras by the topic declarations', () => {
    void worker.event('acme', 'notifications', { id: 'n1', title: 'Hi' });
    void worker.event('acme', 'ping');
    // @ts-expect-error title is missing
    void worker.event('acme', 'notifications', { id: 'n1' });
    // @ts-expect-error the data is required
    void worker.event('acme', 'notifications');
    // @ts-expect-error a job is not an event topic
    void worker.event('acme', 'imports', { imported: 1 });
    void worker.progress('acme', 'imports', 'imp_1', 1, 10, { imported: 1 });
    void worker.complete('acme', 'imports', 'imp_1', true, { imported: 1, failed: 0 });
    // @ts-expect-error progress extra lacks imported
    void worker.progress('acme', 'imports', 'imp_1', 1, 10, { failed: 1 });
    // @ts-expect-error completion extra lacks failed
    void worker.complete('acme', 'imports', 'imp_1', true, { imported: 1 });
    // @ts-expect-error an event topic is not a job
    void worker.progress('acme', 'notifications', 'x', 1, 10);
  });

  it('types what a page parses with the same declaration', () => {
    const message = {} as LiveMessage;
    const event = topics.notifications.parse(message);
    expectTypeOf(event).toEqualTypeOf<{ readonly topic: string; readonly data: Toast; readonly seq: number } | null>();
    const update = topics.imports.parse(message);
    if (update?.kind === 'progress') expectTypeOf(update.extra).toEqualTypeOf<{ imported: number }>();
    if (update?.kind === 'complete') expectTypeOf(update.extra).toEqualTypeOf<{ imported: number; failed: number }>();
    expectTypeOf(topics.imports.key('imp_1')).toEqualTypeOf<`imports.${string}`>();
    expectTypeOf(topics.imports.pattern).toEqualTypeOf<'imports.*'>();
    // @ts-expect-error an event topic has no keys
    topics.notifications.key('x');
  });

  it('refuses a payload that is not JSON at the declaration', () => {
    // @ts-expect-error a Date is not JSON
    liveEvent<{ at: Date }>();
    // @ts-expect-error a job extra is a JSON object
    liveJob<number>();
  });

  it('types createPublisher like live.publisher', () => {
    const script = createPublisher({ name: 'script', resources, topics, invalidates: ['invoices'], publishes: ['ping'] });
    void script.invalidate('acme', 'invoices', 1);
    // @ts-expect-error not declared by this publisher
    void script.invalidate('acme', 'orders');
    expectTypeOf(script.withHub(createHub())).toEqualTypeOf(script);
  });
});
