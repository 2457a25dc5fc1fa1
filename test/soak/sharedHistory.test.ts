import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createHub } from 'trpc-live/core';
import { createRedisBackend } from 'trpc-live/redis';
import { compareWithRecord, ReceivedLog, toPublished, type PublishedEntry } from '../../soak/lib/oracle';
import { parseStreamEntry, placeByIdentity, readSharedHistory, type SharedEntry, type SharedHistory } from '../../soak/lib/sharedHistory';
import { emptyVerify } from '../../soak/lib/protocol';
import { recordCheck } from '../../soak/lib/scenario';
import { placedRecordCheck } from '../../soak/scenarios/deployStorm';
import { redisServerBinary, startRedis, type TestRedis } from '../helpers/redis';
import { describeWithService } from '../helpers/services';

// The record oracle places a receipt that names a local history (a publish Redis answered after the 80 ms publish
// wait) at the shared copy of its identity, read from Redis by the harness. Every expectation below is written by hand.
const invalidation = (epoch: string, seq: number, id: string): PublishedEntry =>
  toPublished({ epoch, seq, scope: 't', signal: { kind: 'invalidate', resource: 'soak', id } });
// The key the oracle gives an invalidation of `soak` with `id` on its default topic, for everyone in the tenant.
const keyOf = (id: string) => `soak  invalidate soak ${id}`;
const stored = (seq: number, id: string, origin: string, serial: number, extra: Partial<SharedEntry> = {}): SharedEntry => ({
  seq,
  scope: 't',
  topic: 'soak',
  kind: 'invalidate',
  key: keyOf(id),
  origin,
  serial,
  ...extra,
});

describe('placing receipts by publish identity', () => {
  // Shared epoch S. Origin `abc` published serials 4 (receipt S:1), 5 and 6 (receipts of its local history abc-1).
  const record = [invalidation('S', 1, 'x-0'), invalidation('abc-1', 5, 'x-1'), invalidation('abc-1', 6, 'x-2')];

  it('moves a local receipt to the shared copy of its identity and keeps the local position as a copy', () => {
    const history: SharedHistory = { epoch: 'S', entries: [stored(1, 'x-0', 'abc', 4), stored(2, 'x-1', 'abc', 5), stored(3, 'x-2', 'abc', 6)] };
    const placement = placeByIdentity(record, history);
    expect(placement).toMatchObject({ local: 2, placed: 2, notShared: 0, unplaceable: 0, otherEpoch: 0, twinEntries: 0 });
    expect(placement.entries.map((e) => [e.epoch, e.seq, e.key, e.copies])).toEqual([
      ['S', 1, keyOf('x-0'), undefined],
      ['S', 2, keyOf('x-1'), [{ epoch: 'abc-1', seq: 5 }]],
      ['S', 3, keyOf('x-2'), [{ epoch: 'abc-1', seq: 6 }]],
    ]);
  });

  it('judges a placed receipt received when the client got the shared copy, lost when it got neither copy', () => {
    const { entries } = placeByIdentity(record, { epoch: 'S', entries: [stored(1, 'x-0', 'abc', 4), stored(2, 'x-1', 'abc', 5), stored(3, 'x-2', 'abc', 6)] });
    const client = { scope: 't', groups: {} };
    const all = new ReceivedLog();
    for (const seq of [1, 2, 3]) all.addData('S', seq);
    expect(compareWithRecord(entries, client, all)).toMatchObject({ expected: 3, received: 3, lost: [], duplicates: 0, unexpected: 0 });
    const missing = new ReceivedLog();
    for (const seq of [1, 3]) missing.addData('S', seq);
    expect(compareWithRecord(entries, client, missing)).toMatchObject({ received: 2, lost: [{ key: keyOf('x-1'), epoch: 'S', seq: 2 }], unexpected: 0 });
  });

  it('leaves a receipt whose identity Redis does not hold at its own position', () => {
    const placement = placeByIdentity(record, { epoch: 'S', entries: [stored(1, 'x-0', 'abc', 4), stored(2, 'x-1', 'abc', 5)] });
    expect(placement).toMatchObject({ local: 2, placed: 1, notShared: 1, unplaceable: 0 });
    expect(placement.entries.map((e) => `${e.epoch}:${e.seq}`)).toEqual(['S:1', 'S:2', 'abc-1:6']);
  });

  it('counts as unplaceable an identity whose entry is another call, or a position another receipt holds', () => {
    // Serial 5 in Redis is an invalidation of another id: not this publish.
    const other = placeByIdentity(record, { epoch: 'S', entries: [stored(1, 'x-0', 'abc', 4), stored(2, 'y', 'abc', 5), stored(3, 'x-2', 'abc', 6)] });
    expect(other).toMatchObject({ placed: 1, unplaceable: 1 });
    expect(other.entries.find((e) => e.key === keyOf('x-1'))).toMatchObject({ epoch: 'abc-1', seq: 5 });
    // Another tenant's entry under that identity.
    expect(placeByIdentity(record, { epoch: 'S', entries: [stored(2, 'x-1', 'abc', 5, { scope: 'u' })] })).toMatchObject({ unplaceable: 1 });
    // Serial 5's entry sits at S:1, the position the receipt of serial 4 already names.
    expect(placeByIdentity(record, { epoch: 'S', entries: [stored(1, 'x-1', 'abc', 5)] })).toMatchObject({ placed: 0, unplaceable: 1, notShared: 1 });
  });

  it('counts an identity written twice in Redis, and a client that got both of its shared copies gets it twice', () => {
    const placement = placeByIdentity(record, {
      epoch: 'S',
      entries: [stored(1, 'x-0', 'abc', 4), stored(2, 'x-1', 'abc', 5), stored(3, 'x-2', 'abc', 6), stored(4, 'x-1', 'abc', 5)],
    });
    expect(placement).toMatchObject({ placed: 2, twinEntries: 1 });
    const log = new ReceivedLog();
    for (const seq of [1, 2, 3, 4]) log.addData('S', seq);
    expect(compareWithRecord(placement.entries, { scope: 't', groups: {} }, log)).toMatchObject({ received: 3, duplicates: 1, unexpected: 0, lost: [] });
  });

  it('leaves a receipt of an epoch that is neither the shared one nor a local history as it is', () => {
    const placement = placeByIdentity([invalidation('gone', 3, 'z')], { epoch: 'S', entries: [] });
    expect(placement).toMatchObject({ local: 0, otherEpoch: 1, placed: 0 });
    expect(placement.entries).toEqual([invalidation('gone', 3, 'z')]);
  });

  it('fails the deploy storm record row on an unplaceable receipt, even when the oracle found nothing lost', () => {
    const clean = recordCheck('row', { ...emptyVerify(), streams: 2, expected: 6, received: 6 }, 2);
    const counts = { entries: [], local: 2, placed: 2, notShared: 0, unplaceable: 0, otherEpoch: 0, twinEntries: 0, samples: [] };
    expect(placedRecordCheck(clean, counts)).toMatchObject({ pass: true });
    expect(placedRecordCheck(clean, counts).value).toMatch(/2 receipts named a local history .*: 2 placed at the shared copy/);
    expect(placedRecordCheck(clean, { ...counts, placed: 1, unplaceable: 1, samples: ['abc-1:5 -> S:1'] })).toMatchObject({ pass: false });
    // Without Redis there is nothing to place: the row is the record oracle's alone.
    expect(placedRecordCheck(clean, null)).toBe(clean);
  });

  it('reads a stream entry: seq from its id, identity from o and n, the key from its own payload', () => {
    const payload = JSON.stringify({ scope: 't', topic: 'soak', lane: 'normal', key: 'k', signal: { kind: 'invalidate', resource: 'soak', id: 'x-1', hint: { n: 1 } } });
    expect(parseStreamEntry('S', '17-0', ['k', 'k', 'd', payload, 'o', 'abc', 'n', '5'])).toEqual(stored(17, 'x-1', 'abc', 5));
    expect(parseStreamEntry('S', '17-0', ['k', 'k', 'd', payload])).toEqual({ seq: 17, scope: 't', topic: 'soak', kind: 'invalidate', key: keyOf('x-1') });
    expect(parseStreamEntry('S', '17-0', ['d', 'not json'])).toBeNull();
  });
});

describeWithService('redis-server', redisServerBinary, 'the shared history as Redis holds it', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('reads the epoch and every entry of the named tenants streams with XRANGE', async () => {
    const client = new Redis(redis.url);
    const payload = (scope: string, id: string) => JSON.stringify({ scope, topic: 'soak', lane: 'normal', key: id, signal: { kind: 'invalidate', resource: 'soak', id } });
    await client.set('hand:epoch', 'E1');
    await client.xadd('hand:s:t', '1-0', 'k', 'a', 'd', payload('t', 'a'), 'o', 'abc', 'n', '1');
    await client.xadd('hand:s:u', '2-0', 'k', 'b', 'd', payload('u', 'b'), 'o', 'abc', 'n', '2');
    await client.xadd('hand:s:t', '3-0', 'k', 'c', 'd', payload('t', 'c'), 'o', 'def', 'n', '1');
    client.disconnect();
    const history = await readSharedHistory(redis.url, 'hand', ['t', 'u', 't']);
    expect(history.epoch).toBe('E1');
    expect(history.entries.map((e) => [e.seq, e.scope, e.origin, e.serial])).toEqual([
      [1, 't', 'abc', 1],
      [3, 't', 'def', 1],
      [2, 'u', 'abc', 2],
    ]);
    await expect(readSharedHistory(redis.url, 'none', ['t'])).rejects.toThrow(/no shared history/);
  });

  // The situation of the deploy storm's row, with the real backend: Redis answers a publish after the 80 ms publish
  // wait, the receipt names the local history, and the harness finds the publish's shared copy by its identity.
  it('places the receipts of publishes Redis answered late at their shared copies, each the same call', async () => {
    const backend = createRedisBackend({ url: redis.url, prefix: 'late', logger: null });
    const hub = createHub({ backend });
    try {
      expect(await backend.ready(5000)).toBe(true);
      const before = await hub.invalidate('t', { resource: 'soak', id: 'before' });
      // Frozen for 200 ms: longer than the 80 ms publish wait, shorter than the 400 ms of silence that makes the
      // instance fall back; the commands wait in Redis and run when it thaws.
      redis.freeze();
      const late = [hub.invalidate('t', { resource: 'soak', id: 'late-0' }), hub.invalidate('t', { resource: 'soak', id: 'late-1' })];
      await new Promise((resolve) => setTimeout(resolve, 200));
      redis.thaw();
      const receipts = await Promise.all(late);
      expect(await backend.settled(5000)).toBe(true);
      const record = [
        invalidation(before.epoch, before.seq, 'before'),
        ...receipts.map((receipt, i) => invalidation(receipt.epoch, receipt.seq, `late-${i}`)),
      ];
      const history = await readSharedHistory(redis.url, 'late', ['t']);
      // The receipt given before the freeze names the shared history; the two late ones a local history.
      expect(before.epoch).toBe(history.epoch);
      expect(receipts.map((r) => r.epoch === history.epoch)).toEqual([false, false]);
      const placement = placeByIdentity(record, history);
      expect(placement).toMatchObject({ local: 2, placed: 2, notShared: 0, unplaceable: 0, twinEntries: 0 });
      // Each sits where Redis holds its own id (read back from the stream's payloads, by hand).
      const client = new Redis(redis.url);
      const stream = await client.xrange('late:s:t', '-', '+');
      client.disconnect();
      const idAt = new Map(
        stream.map(([id, fields]) => [Number(id.split('-')[0]), (JSON.parse(fields[fields.indexOf('d') + 1]!) as { signal: { id: string } }).signal.id]),
      );
      expect(placement.entries.map((e) => idAt.get(e.seq))).toEqual(['before', 'late-0', 'late-1']);
    } finally {
      await hub.close();
    }
  });
});
