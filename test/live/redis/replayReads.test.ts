import { describe, expect, it } from 'vitest';
import type { ReplayResult } from 'trpc-live/core';
import { RecentEntries } from '../../../packages/trpc-live/src/redis/recentEntries.ts';
import { decodeReplay, ReplayReads } from '../../../packages/trpc-live/src/redis/replayReads.ts';
import type { SinceReply } from '../../../packages/trpc-live/src/redis/redisLink.ts';

/** A stream entry as SINCE_SCRIPT returns it (four strings: id, payload, origin, serial), written out by hand. */
function streamEntry(seq: number, key: string): string[] {
  const payload = { scope: 'acme', topic: 'orders', lane: 'instant', key, signal: { kind: 'invalidate', resource: 'orders' }, o: 'o1', n: seq };
  return [`${seq}-0`, JSON.stringify(payload), 'o1', String(seq)];
}

function reads(
  options: { shared?: boolean; reply?: () => Promise<SinceReply>; commandTimeoutMs?: number; twins?: { lastSerial: number; confirmed: number } } = {},
) {
  const twins = options.twins ?? { lastSerial: 0, confirmed: 0 };
  const calls: string[] = [];
  const unreachable: string[] = [];
  const localReads: string[] = [];
  const replays = new ReplayReads({
    mode: { shared: options.shared ?? true },
    local: {
      epoch: 'o1-3',
      get lastSerial() {
        return twins.lastSerial;
      },
      since: (scope, epoch, afterSeq): ReplayResult => {
        localReads.push(`${scope}@${epoch}:${afterSeq}`);
        return { ok: true, entries: [] };
      },
    },
    twinsConfirmed: () => twins.confirmed,
    read: (scope, epoch, afterSeq) => {
      calls.push(`${scope}@${epoch}:${afterSeq}`);
      return options.reply ? options.reply() : Promise.resolve(['ok', streamEntry(5, 'orders:1')] as SinceReply);
    },
    commandTimeoutMs: options.commandTimeoutMs ?? 1000,
    onUnreachable: (why) => unreachable.push(why),
  });
  return { replays, calls, unreachable, localReads };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('ReplayReads', () => {
  it('shares one Redis read between identical requests made in the same event-loop turn', async () => {
    const { replays, calls } = reads();
    const results = [
      replays.since('acme', 'e1', 4),
      replays.since('acme', 'e1', 4),
      replays.since('acme', 'e1', 3),
      replays.since('beta', 'e1', 4),
    ];
    expect(results[0]).toBe(results[1]);
    const settled = await Promise.all(results);
    expect(calls).toEqual(['acme@e1:4', 'acme@e1:3', 'beta@e1:4']);
    const entry = expect.objectContaining({ epoch: 'e1', seq: 5, key: 'orders:1', origin: 'o1', serial: 5 });
    expect(settled[0]).toEqual({ ok: true, entries: [entry] });
  });

  it('sends a second read for a request made after the first was sent (its snapshot would miss what came between)', async () => {
    const { replays, calls } = reads();
    const first = replays.since('acme', 'e1', 4);
    await nextTurn();
    await nextTurn();
    const second = replays.since('acme', 'e1', 4);
    expect(second).not.toBe(first);
    await Promise.all([first, second]);
    expect(calls).toEqual(['acme@e1:4', 'acme@e1:4']);
  });

  it('answers a reset with the reason Redis gave', async () => {
    const { replays } = reads({ reply: () => Promise.resolve(['evicted'] as SinceReply) });
    await expect(replays.since('acme', 'e1', 4)).resolves.toEqual({ ok: false, reason: 'evicted' });
  });

  it('answers a gap when Redis is slower than commandTimeoutMs, without calling Redis unreachable', async () => {
    const { replays, unreachable } = reads({ commandTimeoutMs: 20, reply: () => new Promise(() => undefined) });
    await expect(replays.since('acme', 'e1', 4)).resolves.toEqual({ ok: false, reason: 'gap' });
    expect(unreachable).toEqual([]);
  });

  it('answers a gap when the read fails, and calls Redis unreachable unless Redis refused the command', async () => {
    const refused = Object.assign(new Error('NOSCRIPT'), { name: 'ReplyError' });
    const a = reads({ reply: () => Promise.reject(refused) });
    await expect(a.replays.since('acme', 'e1', 4)).resolves.toEqual({ ok: false, reason: 'gap' });
    expect(a.unreachable).toEqual([]);
    const b = reads({ reply: () => Promise.reject(new Error('Connection is closed.')) });
    await expect(b.replays.since('acme', 'e1', 4)).resolves.toEqual({ ok: false, reason: 'gap' });
    expect(b.unreachable).toEqual(['Connection is closed.']);
  });

  it('resets a read that may hold the shared copy of a signal delivered locally and not yet marked as a twin in Redis', async () => {
    // Redis went silent with a publish and this read in flight: the backend delivered the publish locally (serial 5)
    // and queued its twin mark behind the read, so the read may serve the same publish from the stream.
    const twins = { lastSerial: 4, confirmed: 4 };
    let answer: (reply: SinceReply) => void = () => undefined;
    const { replays } = reads({ twins, reply: () => new Promise<SinceReply>((resolve) => (answer = resolve)) });
    const read = replays.since('acme', 'e1', 4);
    await nextTurn();
    twins.lastSerial = 5;
    answer(['ok', streamEntry(5, 'orders:1')]);
    await expect(read).resolves.toEqual({ ok: false, reason: 'gap' });
    // Once the mark is confirmed, a read sent after it runs after it in Redis (SINCE_SCRIPT checks the mark): served.
    twins.confirmed = 5;
    const later = replays.since('acme', 'e1', 4);
    await nextTurn();
    answer(['ok', streamEntry(5, 'orders:1')]);
    await expect(later).resolves.toMatchObject({ ok: true });
  });

  it('serves the local history while not shared, and resets a cursor it cannot read then', async () => {
    const { replays, calls, localReads } = reads({ shared: false });
    expect(replays.since('acme', 'o1-3', 2)).toEqual({ ok: true, entries: [] });
    expect(replays.since('acme', 'e1', 2)).toEqual({ ok: false, reason: 'gap' });
    // Another instance's local history: the reset names its origin, so the hub can drop its copies.
    expect(replays.since('acme', 'o2-1', 2)).toEqual({ ok: false, reason: 'gap', heldOrigin: 'o2' });
    expect(localReads).toEqual(['acme@o1-3:2']);
    expect(calls).toEqual([]);
  });

  it('resets a cursor of a local history with reason epoch while shared, naming its origin', () => {
    const { replays, calls } = reads();
    expect(replays.since('acme', 'o1-3', 2)).toEqual({ ok: false, reason: 'epoch', heldOrigin: 'o1' });
    expect(calls).toEqual([]);
  });
});

describe('decodeReplay', () => {
  it('returns the latest entry per key, oldest first, and skips entries that are not ours', () => {
    // Not written by PUBLISH_SCRIPT: no identity fields, a payload that is not ours.
    const foreign = ['8-0', 'not json', '', ''];
    const newestFirst = [...streamEntry(9, 'a'), ...foreign, ...streamEntry(7, 'b'), ...streamEntry(6, 'a')];
    expect(decodeReplay(newestFirst, 'e1').map((entry) => `${entry.key}@${entry.seq}`)).toEqual(['b@7', 'a@9']);
  });
});

describe('decodeReplay with RecentEntries', () => {
  it('hands over the object it holds at a position only when the identity matches, and remembers what it decodes', () => {
    const recent = new RecentEntries();
    const [held] = decodeReplay(streamEntry(5, 'a'), 'e1', recent);
    expect(recent.size).toBe(1);
    // Same position and identity: the same object (its frame, once encoded, is shared).
    expect(decodeReplay([...streamEntry(6, 'b'), ...streamEntry(5, 'a')], 'e1', recent)[0]).toBe(held);
    // Another epoch, or another publish at that position (serial 7 written by hand): decoded anew.
    expect(decodeReplay(streamEntry(5, 'a'), 'e2', recent)[0]).not.toBe(held);
    const other = ['5-0', streamEntry(5, 'a')[1]!.replace('"n":5', '"n":7'), 'o1', '7'];
    const decoded = decodeReplay(other, 'e1', recent)[0]!;
    expect(decoded).not.toBe(held);
    expect(decoded.serial).toBe(7);
  });

  it('forgets the oldest position past its limit', () => {
    const recent = new RecentEntries(2);
    const [first] = decodeReplay(streamEntry(1, 'a'), 'e1', recent);
    decodeReplay([...streamEntry(3, 'c'), ...streamEntry(2, 'b')], 'e1', recent);
    expect(recent.size).toBe(2);
    expect(decodeReplay(streamEntry(1, 'a'), 'e1', recent)[0]).not.toBe(first);
  });
});
