import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventSignal } from 'trpc-live/core';
import { capturePublishes } from 'trpc-live/testing';
import { setupApp, type TestApp } from '../helpers/app';

const events = (capture: Awaited<ReturnType<typeof capturePublishes>>) =>
  capture.entries.filter((e) => e.signal.kind === 'event').map((e) => ({ scope: e.scope, lane: e.lane, topic: e.topic, data: (e.signal as EventSignal).data }));

describe('notifications', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await setupApp();
  });
  afterEach(async () => {
    await app.close();
  });

  it('stores a notification and pushes it on the instant lane to the tenant when an order is created', async () => {
    const bob = await app.callerAs('bob@acme.test');
    const capture = await capturePublishes(app.hub, () =>
      bob.orders.create({ customer: 'Marie Curie', items: [{ productId: 'prd_acme_2', quantity: 2 }] }),
    );
    const order = capture.result!;
    const list = await bob.notifications.list();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      kind: 'order.created',
      title: `Order #${order.number} from Marie Curie`,
      body: '$258.00 · by Bob Staff',
      link: `/orders/${order.id}`,
    });
    expect(events(capture)).toEqual([
      {
        scope: 'acme',
        lane: 'instant',
        topic: 'notifications',
        data: expect.objectContaining({ id: list[0]!.id, kind: 'order.created', title: list[0]!.title }),
      },
    ]);
    expect(capture.published).toContainEqual({ scope: 'acme', resource: 'notifications', id: list[0]!.id, action: 'created' });
    expect(await (await app.callerAs('carol@globex.test')).notifications.list()).toEqual([]);
  });

  it('notifies "paid" once, on the transition, not when an order is set to paid again', async () => {
    const alice = await app.callerAs('alice@acme.test');
    const first = await capturePublishes(app.hub, () => alice.orders.updateStatus({ id: 'ord_acme_2', status: 'paid' }));
    expect(events(first).map((e) => (e.data as { title: string }).title)).toEqual(['Order #2 paid']);
    const again = await capturePublishes(app.hub, () => alice.orders.updateStatus({ id: 'ord_acme_2', status: 'paid' }));
    expect(events(again)).toEqual([]);
    expect((await alice.notifications.list()).map((n) => n.kind)).toEqual(['order.paid']);
  });

  it('notifies low stock when an order takes a product to its threshold, and not below it again', async () => {
    const alice = await app.callerAs('alice@acme.test');
    const crossing = await capturePublishes(app.hub, () =>
      alice.orders.create({ customer: 'A', items: [{ productId: 'prd_acme_3', quantity: 1 }] }),
    );
    expect(events(crossing).map((e) => (e.data as { title: string }).title)).toEqual([
      expect.stringMatching(/^Order #4 from A$/),
      'Low stock: Head Lamp',
    ]);
    const below = await capturePublishes(app.hub, () =>
      alice.orders.create({ customer: 'B', items: [{ productId: 'prd_acme_3', quantity: 1 }] }),
    );
    expect(events(below).map((e) => (e.data as { kind: string }).kind)).toEqual(['order.created']);
  });

  it('publishes nothing when the order fails', async () => {
    const alice = await app.callerAs('alice@acme.test');
    const capture = await capturePublishes(app.hub, () =>
      alice.orders.create({ customer: 'X', items: [{ productId: 'prd_acme_3', quantity: 999 }] }),
    );
    expect(capture.error).toMatchObject({ code: 'CONFLICT' });
    expect(capture.entries).toEqual([]);
    expect(await alice.notifications.list()).toEqual([]);
  });
});
