import { describe, expect, it } from 'vitest';
import { coverageGaps, groupsMatch, inScope, ReceivedLog, topicMatches, type TappedEntry } from '../../soak/lib/oracle';

// The soak oracles are the judges of scenarios 2-5: they must fail when they should.
describe('soak oracles', () => {
  it('matches topics by NATS rules: * is one token, > one or more trailing tokens', () => {
    expect(topicMatches('orders', 'orders')).toBe(true);
    expect(topicMatches('orders', 'orders.eu')).toBe(false);
    expect(topicMatches('orders.*', 'orders.eu')).toBe(true);
    expect(topicMatches('orders.*', 'orders.eu.paris')).toBe(false);
    expect(topicMatches('orders.>', 'orders')).toBe(false);
    expect(topicMatches('orders.>', 'orders.eu.paris')).toBe(true);
    expect(topicMatches('>', 'a')).toBe(true);
    expect(topicMatches('*.*.paris', 'orders.eu.paris')).toBe(true);
    expect(topicMatches('*', 'orders.eu')).toBe(false);
  });

  it('matches group filters as an intersection of attributes, a list meaning any of its values', () => {
    const groups = { user: 'u1', role: 'staff' };
    expect(groupsMatch(undefined, groups)).toBe(true);
    expect(groupsMatch({ role: 'staff' }, groups)).toBe(true);
    expect(groupsMatch({ role: 'admin' }, groups)).toBe(false);
    expect(groupsMatch({ user: ['u0', 'u1'] }, groups)).toBe(true);
    expect(groupsMatch({ user: 'u1', role: 'admin' }, groups)).toBe(false);
    expect(groupsMatch({ plan: 'pro' }, groups)).toBe(false);
    expect(groupsMatch({ user: [] }, groups)).toBe(false);
  });

  it('keeps a delivery in scope only when tenant, groups, asked topics and allowed topics all match', () => {
    const view = { scope: 't1', groups: { user: 'u1', role: 'staff' }, topics: ['orders.>'], allowed: ['orders.eu.*'] };
    expect(inScope(view, { scope: 't1', topic: 'orders.eu.paris' })).toBe(true);
    expect(inScope(view, { scope: 't2', topic: 'orders.eu.paris' })).toBe(false);
    expect(inScope(view, { scope: 't1', topic: 'orders.us.nyc' })).toBe(false);
    expect(inScope(view, { scope: 't1', topic: 'orders.eu.paris', groups: { role: 'admin' } })).toBe(false);
  });

  it('reports a gap for a key whose last signal neither arrived nor was followed by a reset', () => {
    const entries: TappedEntry[] = [
      { seq: 1, epoch: 'e', scope: 't', topic: 'orders', key: 'orders|a', kind: 'invalidate' },
      { seq: 2, epoch: 'e', scope: 't', topic: 'orders', key: 'orders|a', kind: 'invalidate' },
      { seq: 3, epoch: 'e', scope: 't', topic: 'orders', key: 'orders|b', kind: 'invalidate' },
      { seq: 4, epoch: 'e', scope: 'other', topic: 'orders', key: 'orders|c', kind: 'invalidate' },
      { seq: 5, epoch: 'e', scope: 't', topic: 'notifications', key: '#5', kind: 'event', groups: { user: 'u2' } },
    ];
    const view = { scope: 't', groups: { user: 'u1' } };
    const got = (seqs: number[], resetAt?: number) => {
      const log = new ReceivedLog();
      log.meet('e');
      for (const seq of seqs) log.addData('e', seq);
      if (resetAt !== undefined) log.addReset('e', resetAt);
      return log;
    };
    // The last value of each of its keys: nothing missing (seq 1 was replaced, 4 and 5 are not for it).
    expect(coverageGaps(entries, view, got([2, 3])).gaps).toEqual([]);
    // The older value of a only: a gap on a.
    expect(coverageGaps(entries, view, got([1, 3])).gaps).toEqual([{ key: 'orders|a', epoch: 'e', lastSeq: 2 }]);
    // A reset at 2 covers a, not b.
    expect(coverageGaps(entries, view, got([], 2)).gaps.map((g) => g.key)).toEqual(['orders|b']);
    expect(coverageGaps(entries, view, got([], 3)).gaps).toEqual([]);
  });

  it('counts a reset from a server met later as covering everything of the earlier server, not the reverse', () => {
    const entries: TappedEntry[] = [
      { seq: 7, epoch: 'old', scope: 't', topic: 'orders', key: 'orders|a', kind: 'invalidate' },
      { seq: 1, epoch: 'new', scope: 't', topic: 'orders', key: 'orders|b', kind: 'invalidate' },
    ];
    const view = { scope: 't', groups: {} };
    const log = new ReceivedLog();
    log.meet('old');
    log.addReset('new', 0);
    // The new server's reset (at its seq 0) covers the old server's seq 7, but not the new server's seq 1.
    expect(coverageGaps(entries, view, log).gaps).toEqual([{ key: 'orders|b', epoch: 'new', lastSeq: 1 }]);
    log.addData('new', 1);
    expect(coverageGaps(entries, view, log).gaps).toEqual([]);
    // A reset in the old epoch says nothing about the new one.
    const reverse = new ReceivedLog();
    reverse.addReset('old', 100);
    reverse.meet('new');
    expect(coverageGaps(entries, view, reverse).gaps.map((g) => g.epoch)).toEqual(['new']);
  });
});
