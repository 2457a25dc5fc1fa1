import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHub, LiveError, type Hub } from 'trpc-live/core';
import { RecordingSink } from '../../helpers/sink';

describe('hub: publish and subscribe', () => {
  let hub: Hub;
  beforeEach(() => {
    vi.useFakeTimers();
    hub = createHub();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes a hello carrying the head as its starting cursor when a fresh stream connects', async () => {
    const before = await hub.invalidate('acme', { resource: 'orders', id: 'before' });
    const sink = new RecordingSink();
    const connection = hub.connect({ scope: 'acme', sink });
    expect(sink.frames).toHaveLength(1);
    expect(sink.frames[0]!.id).toBe(before.cursor);
    expect(sink.frames[0]!.message).toEqual({ kind: 'hello', connectionId: connection.id, epoch: hub.stats().epoch });
  });

  it('writes a hello without a cursor when a stream resumes from its own', async () => {
    const first = await hub.invalidate('acme', { resource: 'orders', id: '1' });
    await hub.invalidate('acme', { resource: 'orders', id: '2' });
    const sink = new RecordingSink();
    hub.connect({ scope: 'acme', sink, lastEventId: first.cursor });
    expect(sink.frames[0]!.message).toMatchObject({ kind: 'hello' });
    expect(sink.frames[0]!.id).toBeNull();
    expect(sink.data).toMatchObject([{ kind: 'invalidate', id: '2' }]);
  });

  it('regression: a stream cut before its first signal resumes from its hello without a gap', async () => {
    const sink = new RecordingSink();
    const connection = hub.connect({ scope: 'acme', sink });
    const start = sink.frames[0]!.id!;
    connection.dispose();
    await hub.invalidate('acme', { resource: 'orders', id: 'while-away' });
    const again = new RecordingSink();
    hub.connect({ scope: 'acme', sink: again, lastEventId: start });
    expect(again.data).toMatchObject([{ kind: 'invalidate', id: 'while-away' }]);
  });

  it('delivers an invalidation to a subscriber of the same tenant at the end of the tick', async () => {
    const sink = new RecordingSink();
    hub.connect({ scope: 'acme', sink });
    const receipt = await hub.invalidate('acme', { resource: 'orders', id: 'ord_1', action: 'created' });
    expect(sink.data).toEqual([]); // not before the tick ends
    vi.runAllTimers();
    expect(sink.data).toEqual([{ kind: 'invalidate', resource: 'orders', id: 'ord_1', action: 'created', seq: receipt.seq }]);
    expect(sink.frames.at(-1)!.id).toBe(receipt.cursor);
  });

  it('never delivers a signal of tenant A to a connection of tenant B', async () => {
    const a = new RecordingSink();
    const b = new RecordingSink();
    hub.connect({ scope: 'acme', sink: a });
    hub.connect({ scope: 'globex', sink: b });
    await hub.invalidate('acme', { resource: 'orders', id: 'ord_1' });
    vi.runAllTimers();
    expect(a.data).toHaveLength(1);
    expect(b.data).toEqual([]);
  });

  it('writes everything published to a connection in one tick as one write', async () => {
    const sink = new RecordingSink();
    hub.connect({ scope: 'acme', sink });
    await hub.invalidate('acme', { resource: 'orders', id: '1' });
    await hub.invalidate('acme', { resource: 'orders', id: '2' });
    await hub.signal('acme', 'notifications', { text: 'hi' });
    vi.runAllTimers();
    expect(sink.writes).toHaveLength(2); // hello, then one batch
    expect(sink.writes[1]!.map((f) => f.message.kind)).toEqual(['invalidate', 'invalidate', 'event']);
  });

  it('stops delivering to a connection once it is disposed and forgets it', async () => {
    const sink = new RecordingSink();
    const connection = hub.connect({ scope: 'acme', sink });
    expect(hub.connectionCount).toBe(1);
    connection.dispose();
    expect(hub.connectionCount).toBe(0);
    await hub.invalidate('acme', { resource: 'orders' });
    vi.runAllTimers();
    expect(sink.data).toEqual([]);
    expect(hub.stats().scopes).toBe(0);
  });

  it('encodes a published signal once, whatever the number of recipients', async () => {
    const serialize = vi.fn(JSON.stringify);
    hub = createHub({ serialize });
    const sinks = Array.from({ length: 20 }, () => new RecordingSink());
    for (const sink of sinks) hub.connect({ scope: 'acme', sink });
    serialize.mockClear();
    await hub.invalidate('acme', { resource: 'orders', id: 'x' });
    vi.runAllTimers();
    expect(serialize).toHaveBeenCalledTimes(1);
    const frames = new Set(sinks.map((s) => s.frames.at(-1)));
    expect(frames.size).toBe(1); // the very same frame object (same bytes, same cursor)
  });

  it('refuses an invalid topic pattern with a clear error', () => {
    expect(() => hub.connect({ scope: 'acme', topics: ['orders.>.x'], sink: new RecordingSink() })).toThrowError(
      /">" is only allowed as the last token/,
    );
    expect(() => hub.connect({ scope: 'acme', topics: ['a..b'], sink: new RecordingSink() })).toThrowError(LiveError);
  });
});
