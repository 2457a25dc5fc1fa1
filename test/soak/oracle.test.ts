import { describe, expect, it } from 'vitest';
import { emptyVerify } from '../../soak/lib/protocol';
import { Histogram } from '../../soak/lib/histogram';
import { compareWithRecord, groupsMatch, inScope, ReceivedLog, toPublished, topicMatches, type PublishedEntry } from '../../soak/lib/oracle';
import type { VerifyResult } from '../../soak/lib/protocol';
import { recordCheck, resumeCheck } from '../../soak/lib/scenario';

// The soak oracles judge every scenario against the harness's own record of what it published: they must fail when they should.
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

  // A hand-built record: tenant t, one client (user u1). Every verdict below is counted by hand.
  const entry = (seq: number, key: string, extra: Partial<PublishedEntry> = {}): PublishedEntry => ({
    seq,
    epoch: 'e',
    scope: 't',
    topic: 'orders',
    key,
    kind: 'invalidate',
    ...extra,
  });
  const record: PublishedEntry[] = [
    entry(1, 'a'),
    entry(2, 'a'),
    entry(3, 'b'),
    entry(4, 'c', { scope: 'other' }),
    entry(5, '#5', { kind: 'event', topic: 'notifications', groups: { user: 'u2' } }),
    entry(6, '#6', { kind: 'event', topic: 'notifications', groups: { user: 'u1' } }),
  ];
  const view = { scope: 't', groups: { user: 'u1' } };
  const got = (seqs: number[], options: { resetAt?: number; start?: number } = {}) => {
    const log = new ReceivedLog();
    if (options.start !== undefined) log.open('e', options.start);
    log.meet('e');
    for (const seq of seqs) log.addData('e', seq);
    if (options.resetAt !== undefined) log.addReset('e', options.resetAt);
    return log;
  };

  it('passes a client that received every publish meant for it, and nothing else', () => {
    // Meant for it: 1, 2, 3, 6 (4 is another tenant's, 5 another user's).
    expect(compareWithRecord(record, view, got([1, 2, 3, 6]))).toEqual({
      expected: 4,
      received: 4,
      byReset: 0,
      replaced: 0,
      lost: [],
      duplicates: 0,
      unexpected: 0,
    });
  });

  it('reports a lost signal: a publish of the record that never arrived and nothing covers', () => {
    const verdict = compareWithRecord(record, view, got([1, 2, 6]));
    expect(verdict.lost).toEqual([{ key: 'b', epoch: 'e', seq: 3 }]);
    expect(verdict.received).toBe(3);
    // An event stands alone: nothing replaces it.
    expect(compareWithRecord(record, view, got([1, 2, 3])).lost).toEqual([{ key: '#6', epoch: 'e', seq: 6 }]);
  });

  it('lets a later publish of the same key replace an earlier one, never the reverse', () => {
    expect(compareWithRecord(record, view, got([2, 3, 6]))).toMatchObject({ received: 3, replaced: 1, lost: [] });
    expect(compareWithRecord(record, view, got([1, 3, 6])).lost).toEqual([{ key: 'a', epoch: 'e', seq: 2 }]);
  });

  it('counts a frame received twice as a duplicate', () => {
    const log = got([1, 2, 3, 6]);
    log.addData('e', 3);
    expect(compareWithRecord(record, view, log)).toMatchObject({ duplicates: 1, lost: [] });
  });

  it('counts a frame the record does not hold for the client as unexpected: a leak or an unrecorded publish', () => {
    // 4 is another tenant's, 5 another user's, 9 was never recorded.
    expect(compareWithRecord(record, view, got([1, 2, 3, 4, 5, 6, 9])).unexpected).toBe(3);
  });

  it('covers publishes at or before a reset the client received, not after it', () => {
    expect(compareWithRecord(record, view, got([], { resetAt: 3 }))).toMatchObject({
      byReset: 3,
      lost: [{ key: '#6', epoch: 'e', seq: 6 }],
    });
    expect(compareWithRecord(record, view, got([], { resetAt: 6 }))).toMatchObject({ byReset: 4, lost: [] });
  });

  it('expects only what was published inside the client window: after the head its hello named, up to until', () => {
    // Opened at head 2: 1 and 2 came before it.
    expect(compareWithRecord(record, view, got([3, 6], { start: 2 }))).toMatchObject({ expected: 2, lost: [], unexpected: 0 });
    // Closed at 3: 6 came after it.
    expect(compareWithRecord(record, view, got([1, 2, 3]), { epoch: 'e', seq: 3 })).toMatchObject({ expected: 3, lost: [] });
    // A replayed frame from before the window is not accounted for.
    expect(compareWithRecord(record, view, got([1, 3, 6], { start: 2 })).unexpected).toBe(1);
  });

  it('counts a reset from a server met later as covering everything of the earlier server, not the reverse', () => {
    const entries: PublishedEntry[] = [
      { seq: 7, epoch: 'old', scope: 't', topic: 'orders', key: 'a', kind: 'invalidate' },
      { seq: 1, epoch: 'new', scope: 't', topic: 'orders', key: 'b', kind: 'invalidate' },
    ];
    const scope = { scope: 't', groups: {} };
    const log = new ReceivedLog();
    log.meet('old');
    log.addReset('new', 0);
    // The new server's reset (at its seq 0) covers the old server's seq 7, but not the new server's seq 1.
    expect(compareWithRecord(entries, scope, log).lost).toEqual([{ key: 'b', epoch: 'new', seq: 1 }]);
    log.addData('new', 1);
    expect(compareWithRecord(entries, scope, log).lost).toEqual([]);
    // A reset in the old epoch says nothing about the new one.
    const reverse = new ReceivedLog();
    reverse.addReset('old', 100);
    reverse.meet('new');
    expect(compareWithRecord(entries, scope, reverse).lost.map((l) => l.epoch)).toEqual(['new']);
  });

  // With a shared Redis, a receipt may name the publish's local copy (`o1-3`, seq = its serial 7) while the clients get
  // its shared copy (S:2). Placed by identity (soak/lib/sharedHistory.ts), the publish sits at S:2 with the local
  // position as another copy. Every verdict below is counted by hand.
  describe('a publish with a local copy and a shared copy', () => {
    const placed: PublishedEntry[] = [
      { seq: 1, epoch: 'S', scope: 't', topic: 'soak', key: 'a', kind: 'invalidate' },
      { seq: 2, epoch: 'S', scope: 't', topic: 'soak', key: 'b', kind: 'invalidate', copies: [{ epoch: 'o1-3', seq: 7 }] },
      { seq: 3, epoch: 'S', scope: 't', topic: 'soak', key: 'c', kind: 'invalidate' },
    ];
    const client = { scope: 't', groups: {} };
    const frames = (...positions: Array<[string, number]>) => {
      const log = new ReceivedLog();
      log.meet('S');
      for (const [epoch, seq] of positions) log.addData(epoch, seq);
      return log;
    };

    it('judges it received when its shared copy arrived: not lost, not outside the record', () => {
      expect(compareWithRecord(placed, client, frames(['S', 1], ['S', 2], ['S', 3]))).toEqual({
        expected: 3,
        received: 3,
        byReset: 0,
        replaced: 0,
        lost: [],
        duplicates: 0,
        unexpected: 0,
      });
      // Its local copy (an instance that fell back delivers that one) counts the same.
      expect(compareWithRecord(placed, client, frames(['S', 1], ['o1-3', 7], ['S', 3]))).toMatchObject({ received: 3, lost: [], duplicates: 0, unexpected: 0 });
    });

    it('judges it lost when neither copy arrived', () => {
      expect(compareWithRecord(placed, client, frames(['S', 1], ['S', 3]))).toMatchObject({
        expected: 3,
        received: 2,
        lost: [{ key: 'b', epoch: 'S', seq: 2 }],
        duplicates: 0,
        unexpected: 0,
      });
    });

    it('counts it twice when both copies arrived, and a copy that arrived twice as a duplicate', () => {
      expect(compareWithRecord(placed, client, frames(['S', 1], ['S', 2], ['o1-3', 7], ['S', 3]))).toMatchObject({
        received: 3,
        lost: [],
        duplicates: 1,
        unexpected: 0,
      });
      expect(compareWithRecord(placed, client, frames(['S', 1], ['S', 2], ['S', 2], ['S', 3]))).toMatchObject({ received: 3, lost: [], duplicates: 1 });
    });

    it('counts it lost and its shared copy outside the record when the receipt is left at its local position (the row before placement)', () => {
      const unplaced: PublishedEntry[] = [placed[0]!, { seq: 7, epoch: 'o1-3', scope: 't', topic: 'soak', key: 'b', kind: 'invalidate' }, placed[2]!];
      expect(compareWithRecord(unplaced, client, frames(['S', 1], ['S', 2], ['S', 3]))).toMatchObject({
        received: 2,
        lost: [{ key: 'b', epoch: 'o1-3', seq: 7 }],
        unexpected: 1,
      });
    });

    it('lets a reset the client received at or after its shared copy cover it', () => {
      const reset = frames(['S', 1], ['S', 3]);
      reset.addReset('S', 2);
      expect(compareWithRecord(placed, client, reset)).toMatchObject({ received: 2, byReset: 1, lost: [] });
    });
  });

  it('keys a recorded call by topic, audience and thing, whatever the order of its group filter, and never keys events', () => {
    const a = toPublished({ seq: 1, epoch: 'e', scope: 't', groups: { role: 'admin', user: ['u2', 'u1'] }, signal: { kind: 'invalidate', resource: 'orders', id: '7' } });
    const b = toPublished({ seq: 2, epoch: 'e', scope: 't', groups: { user: ['u1', 'u2'], role: 'admin' }, signal: { kind: 'invalidate', resource: 'orders', id: '7' } });
    const other = toPublished({ seq: 3, epoch: 'e', scope: 't', signal: { kind: 'invalidate', resource: 'orders', id: '7' } });
    const event1 = toPublished({ seq: 4, epoch: 'e', scope: 't', signal: { kind: 'event', topic: 'notifications' } });
    const event2 = toPublished({ seq: 5, epoch: 'e', scope: 't', signal: { kind: 'event', topic: 'notifications' } });
    expect(a.key).toBe(b.key);
    expect(a.key).not.toBe(other.key);
    expect(event1.key).not.toBe(event2.key);
    expect([a.topic, event1.topic]).toEqual(['orders', 'notifications']);
    expect(toPublished({ seq: 6, epoch: 'e', scope: 't', topic: 'x.y', signal: { kind: 'progress', key: 'job' } }).topic).toBe('x.y');
    expect(toPublished({ seq: 7, epoch: 'e', scope: 't', signal: { kind: 'progress', key: 'job' } }).topic).toBe('job');
  });
});

// The rows built from those verdicts: each must be able to fail.
describe('soak rows', () => {
  const clean: VerifyResult = { ...emptyVerify(), streams: 10, expected: 100, received: 100 };

  it('passes the record row only with every stream judged, something expected, nothing lost, twice or unaccounted for', () => {
    expect(recordCheck('row', clean, 10).pass).toBe(true);
    expect(recordCheck('row', { ...clean, lost: 1, received: 99, samples: [{ key: 'a', epoch: 'e', seq: 3, stream: 0 }] }, 10).pass).toBe(false);
    expect(recordCheck('row', { ...clean, duplicates: 1 }, 10).pass).toBe(false);
    expect(recordCheck('row', { ...clean, unexpected: 1 }, 10).pass).toBe(false);
    expect(recordCheck('row', { ...clean, streams: 9 }, 10).pass).toBe(false);
    expect(recordCheck('row', { ...emptyVerify(), streams: 10 }, 10).pass).toBe(false);
  });

  const resumes = (...ms: number[]) => {
    const h = new Histogram();
    for (const m of ms) h.add(m);
    return h;
  };

  it('fails the resume row on a late resume, a missing one, or none at all', () => {
    const fast = Array.from({ length: 200 }, () => 100);
    expect(resumeCheck('row', resumes(...fast), 200, 5000).pass).toBe(true);
    // 3 of 200 resumed after 9 s: above the p99.
    expect(resumeCheck('row', resumes(...fast.slice(3), 9000, 9000, 9000), 200, 5000).pass).toBe(false);
    // One client never resumed.
    expect(resumeCheck('row', resumes(...fast.slice(1)), 200, 5000).pass).toBe(false);
    expect(resumeCheck('row', resumes(), 0, 5000).pass).toBe(false);
    expect(resumeCheck('row', resumes(), 10, 5000).pass).toBe(false);
  });

  it('judges fewer than 100 resumes by their maximum, not a p99', () => {
    // 20 samples: one late one is the maximum, and fails the row.
    const check = resumeCheck('row', resumes(...Array.from({ length: 19 }, () => 100), 6000), 20, 5000);
    expect(check.pass).toBe(false);
    expect(check.value).toMatch(/^max 6000 ms over 20 of 20/);
  });
});
