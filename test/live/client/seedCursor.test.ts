import { QueryClient } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import { createLiveInvalidator } from 'trpc-live/client';
import type { LiveMessage } from 'trpc-live/core';
import { defineResources } from '../../../packages/trpc-live/src/shared/registry';

const registry = defineResources({ orders: { queries: [{ path: 'orders.byId', by: 'id' }] } });
const change = (id: string, seq: number): LiveMessage => ({ kind: 'invalidate', resource: 'orders', id, action: 'updated', seq });

/** An invalidator whose batches run when the test says, counting its invalidation passes. */
function setup() {
  const queryClient = new QueryClient();
  const tasks: Array<() => void> = [];
  const invalidator = createLiveInvalidator({ queryClient, registry, schedule: (fn) => tasks.push(fn), visibility: null });
  return { invalidator, run: () => tasks.splice(0).forEach((task) => task()) };
}

describe('LiveInvalidator.seedCursor (a server render\'s cursor)', () => {
  it('makes the stream open from the seed when the stream has no cursor yet', () => {
    const { invalidator } = setup();
    invalidator.seedCursor('e1:7');
    expect(invalidator.lastCursor).toBe('e1:7');
    expect(invalidator.pendingSeed).toBe('e1:7');
  });

  it('keeps the oldest of several seeds, whichever order they come in', () => {
    for (const order of [['e1:9', 'e1:4'], ['e1:4', 'e1:9']]) {
      const { invalidator } = setup();
      for (const cursor of order) invalidator.seedCursor(cursor);
      expect(invalidator.lastCursor).toBe('e1:4');
    }
  });

  it('keeps the first seed when seeds come from different epochs (the server resets a foreign one)', () => {
    const { invalidator } = setup();
    invalidator.seedCursor('e1:9');
    invalidator.seedCursor('e2:1');
    expect(invalidator.lastCursor).toBe('e1:9');
  });

  it('settles the seed on the hello of a stream that resumed from it', () => {
    const { invalidator } = setup();
    invalidator.seedCursor('e1:7');
    invalidator.receive({ kind: 'hello', connectionId: 'c', epoch: 'e1' });
    expect(invalidator.pendingSeed).toBeNull();
    expect(invalidator.changesSince('e1:7')).toEqual([]);
  });

  it('resets when seeded after a stream that started later than the seed had opened', () => {
    const { invalidator, run } = setup();
    // A fresh stream's hello carries the head; the page's seed (older) came after the stream opened.
    invalidator.receive({ kind: 'hello', connectionId: 'c', epoch: 'e1' }, 'e1:10');
    invalidator.seedCursor('e1:4');
    run();
    expect(invalidator.stats.resets).toBe(1);
    expect(invalidator.pendingSeed).toBeNull();
  });

  it('resets when the page seeds after its stream opened without a cursor, before that stream said hello', () => {
    const { invalidator, run } = setup();
    // The stream opened fresh (no cursor); a page that hydrated late seeds e1:4; the stream starts at the head, e1:10.
    invalidator.seedCursor('e1:4');
    invalidator.receive({ kind: 'hello', connectionId: 'c', epoch: 'e1' }, 'e1:10');
    run();
    expect(invalidator.stats.resets).toBe(1);
    expect(invalidator.pendingSeed).toBeNull();
  });

  it('reports the changes since a cursor only when it saw everything since then', () => {
    const { invalidator } = setup();
    invalidator.seedCursor('e1:2');
    invalidator.receive({ kind: 'hello', connectionId: 'c', epoch: 'e1' });
    invalidator.receive(change('a', 3), 'e1:3');
    invalidator.receive(change('b', 5), 'e1:5');
    expect(invalidator.changesSince('e1:3')).toEqual([{ resource: 'orders', id: 'b', seq: 5 }]);
    expect(invalidator.changesSince('e1:2')).toEqual([
      { resource: 'orders', id: 'a', seq: 3 },
      { resource: 'orders', id: 'b', seq: 5 },
    ]);
    // Before the stream's start, in another epoch, or after a reset at 6: unknown.
    expect(invalidator.changesSince('e1:1')).toBeNull();
    expect(invalidator.changesSince('e0:3')).toBeNull();
    invalidator.receive({ kind: 'reset', reason: 'overflow', seq: 6 }, 'e1:6');
    expect(invalidator.changesSince('e1:5')).toBeNull();
    expect(invalidator.changesSince('e1:6')).toEqual([]);
  });

  it('resets on a malformed seed instead of risking a gap', () => {
    const { invalidator, run } = setup();
    invalidator.seedCursor('not a cursor');
    run();
    expect(invalidator.stats.resets).toBe(1);
    expect(invalidator.lastCursor).toBeNull();
  });
});
