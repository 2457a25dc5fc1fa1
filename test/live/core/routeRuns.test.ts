import { describe, expect, it } from 'vitest';
import { createHub } from 'trpc-live/core';
import { RecordingSink } from '../../helpers/sink';
import { steppedClock } from './fixtures';

interface Publish {
  readonly resource: 'orders' | 'products';
  readonly id: string;
  readonly role?: 'admin';
}

/**
 * What a connection must receive, by the rules of the docs, not the hub's
 * matcher: its topic (a resource, or '>' for all) and, for a publish aimed
 * at a role, that role.
 */
function expected(publishes: readonly Publish[], topic: string, role: string): string[] {
  return publishes.filter((p) => (topic === '>' || topic === p.resource) && (p.role === undefined || p.role === role)).map((p) => p.id);
}

describe('hub: queued entries of one route go to their recipients as one run', () => {
  it('gives every connection exactly its entries, in publish order, with connections joining, pausing and filtered by groups', () => {
    const { timers, turn, drain } = steppedClock();
    const hub = createHub({ timers });
    // 3,000 connections: the publishing turn's budget (8,192 visits) routes only the first entries; the rest are queued runs.
    const kinds = [
      { topic: 'orders', role: 'staff' },
      { topic: 'products', role: 'admin' },
      { topic: '>', role: 'admin' },
    ] as const;
    const streams = Array.from({ length: 3_000 }, (_, i) => {
      const kind = kinds[i % 3]!;
      const sink = new RecordingSink();
      const connection = hub.connect({ scope: 'acme', topics: [kind.topic], groups: { role: kind.role }, sink });
      return { ...kind, sink, connection };
    });
    const admins = { role: 'admin' };
    const publishes: Publish[] = [];
    const publish = (p: Publish, groups?: { role: string }) => {
      publishes.push(p);
      void hub.invalidate('acme', { resource: p.resource, id: p.id }, groups ? { groups } : {});
    };
    // Runs of one route (the same filter object), and equal filters as copies (routed apart, same result).
    for (let i = 0; i < 30; i++) publish({ resource: 'orders', id: `o${i}` });
    for (let i = 0; i < 30; i++) publish({ resource: 'products', id: `p${i}` });
    for (let i = 0; i < 30; i++) publish({ resource: 'orders', id: `oa${i}`, role: 'admin' }, admins);
    for (let i = 0; i < 30; i++) publish({ resource: 'orders', id: `oc${i}`, role: 'admin' }, { role: 'admin' });
    for (let i = 0; i < 30; i++) publish({ resource: 'products', id: `pp${i}` });

    // Between turns: one stream pauses (its invalidations wait as dirty keys), one joins (it starts after
    // everything published before it, queued or not).
    const paused = streams[2]!;
    paused.connection.pause();
    const late = new RecordingSink();
    hub.connect({ scope: 'acme', topics: ['>'], groups: { role: 'admin' }, sink: late });
    expect(turn()).toBeGreaterThan(0);
    drain();

    for (const [i, stream] of streams.entries()) {
      if (stream === paused) continue;
      const ids = stream.sink.data.map((m) => (m.kind === 'invalidate' ? m.id : m.kind));
      expect(ids, `stream ${i} (${stream.topic}, ${stream.role})`).toEqual(expected(publishes, stream.topic, stream.role));
    }
    expect(late.data).toEqual([]);
    expect(paused.sink.data).toEqual([]);
    paused.connection.resume();
    drain();
    const resumed = paused.sink.data.map((m) => (m.kind === 'invalidate' ? m.id : m.kind));
    expect(resumed).toEqual(expected(publishes, paused.topic, paused.role));
  });
});
