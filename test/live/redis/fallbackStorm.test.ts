import { afterEach, expect, it } from 'vitest';
import type { Frame } from 'trpc-live/core';
import { redisServerBinary, startRedis } from '../../helpers/redis';
import { describeWithService } from '../../helpers/services';
import { RecordingSink } from '../../helpers/sink';
import { waitFor } from '../../helpers/wait';
import { createInstance } from './instances';

/** One publish as the test made it: a unique id (nothing replaces it), and where it landed. */
interface Published {
  readonly id: string;
  /** Write clock when the call was made and when its promise resolved. */
  readonly calledAt: number;
  resolvedAt: number;
  /** Its receipt. */
  epoch?: string;
  seq: number;
  /** Positions the hub delivered it at (a receipt given past the 80 ms publish wait names the local one). */
  readonly copies: Array<{ epoch: string; seq: number }>;
}

/** A sink stamping each write with the test's write clock, so the oracle can order resets and publishes. */
class StampedSink extends RecordingSink {
  readonly stamps: number[] = [];
  constructor(private readonly clock: { now: number }) {
    super();
  }
  override write(frames: readonly Frame[]): void {
    this.stamps.push(++this.clock.now);
    super.write(frames);
  }
}

/**
 * The record oracle for one stream, from the test's own record (not the hub's): every publish called after the
 * stream connected must arrive once, or be covered by a reset the stream got: one written after the publish
 * resolved, or one that covers a position of it as the soak's oracle reads positions (at or after it in its
 * epoch, or in an epoch the stream met later).
 */
function judge(sink: StampedSink, record: readonly Published[], from: number): { lost: string[]; duplicates: string[] } {
  const got = new Map<string, number>();
  let lastReset = -1;
  const met: string[] = [];
  const resets = new Map<string, number>();
  sink.writes.forEach((frames, i) => {
    for (const frame of frames) {
      if (!met.includes(frame.epoch)) met.push(frame.epoch);
      const m = frame.message;
      if (m.kind === 'reset') {
        lastReset = sink.stamps[i]!;
        resets.set(frame.epoch, Math.max(resets.get(frame.epoch) ?? -1, frame.seq));
      }
      if (m.kind === 'invalidate' && m.id) got.set(m.id, (got.get(m.id) ?? 0) + 1);
    }
  });
  const coversAt = (epoch: string, seq: number) =>
    (resets.get(epoch) ?? -1) >= seq || met.slice(met.indexOf(epoch) + 1 || met.length).some((later) => resets.has(later));
  const covered = (p: Published) =>
    p.resolvedAt < lastReset || (p.epoch !== undefined && coversAt(p.epoch, p.seq)) || p.copies.some((c) => coversAt(c.epoch, c.seq));
  const lost: string[] = [];
  const duplicates: string[] = [];
  for (const p of record) {
    if (p.calledAt < from) continue;
    const count = got.get(p.id) ?? 0;
    if (count > 1) duplicates.push(p.id);
    if (count === 0 && !covered(p)) lost.push(p.id);
  }
  return { lost, duplicates };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Soak row 3c with the fallback forced: streams resume by replay (reads in flight or queued, at most 8 sent)
 * when Redis goes silent (SIGSTOP) past `unreachableAfterMs`, more resume while it is silent, while the backend
 * is local and after it rejoined, and a publish is made every 5 ms throughout.
 *
 * Measured before the fix in replayReads.ts (12 runs of a case, beside other work): 8 had 6-20 (stream, signal)
 * pairs received twice: the local copy, delivered when the backend fell back, and the shared copy, served by a
 * replay read that was in flight (Redis ran the publish before the read, and the twin mark after it). None lost
 * anything by this oracle. After: no duplicate and no loss in 15 runs of a case.
 */
describeWithService('redis-server', redisServerBinary, 'redis backend: fallback during a replay storm', () => {
  const cleanups: Array<() => Promise<void>> = [];
  let n = 0;
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function storm(freezeAfterMs: number) {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const a = createInstance(redis.url, `storm${++n}`, { commandTimeoutMs: 2000 });
    cleanups.push(() => a.close());
    await a.untilMode('shared');
    const clock = { now: 0 };
    // History with distinct keys, so each resuming stream's read carries many entries.
    const cursors: string[] = [];
    for (let i = 0; i < 600; i++) cursors.push((await a.hub.invalidate('acme', { resource: 'orders', id: `h${i}` })).cursor);

    const record: Published[] = [];
    const byId = new Map<string, Published>();
    a.hub.tap((entry) => byId.get((entry.signal as { id?: string }).id ?? '')?.copies.push({ epoch: entry.epoch, seq: entry.seq }));
    let publishing = true;
    const publisher = (async () => {
      for (let k = 0; publishing; k++) {
        const p: Published = { id: `p${k}`, calledAt: ++clock.now, resolvedAt: Infinity, seq: 0, copies: [] };
        byId.set(p.id, p);
        record.push(p);
        void a.hub.invalidate('acme', { resource: 'live', id: p.id }).then((receipt) => {
          p.resolvedAt = ++clock.now;
          p.epoch = receipt.epoch;
          p.seq = receipt.seq;
        });
        await pause(5);
      }
    })();

    const sinks: Array<{ sink: StampedSink; from: number }> = [];
    const connect = (lastEventId?: string) => {
      const sink = new StampedSink(clock);
      sinks.push({ sink, from: ++clock.now });
      a.hub.connect({ scope: 'acme', sink, ...(lastEventId ? { lastEventId } : {}) });
    };
    for (let i = 0; i < 20; i++) connect();
    await pause(100);
    // The storm: distinct cursors (no read shared).
    for (let i = 0; i < 400; i++) {
      connect(cursors[i % 500]!);
      if (i % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
    }
    await pause(freezeAfterMs);
    redis.freeze();
    // Streams resume while Redis is silent but the backend still counts as shared.
    for (let wave = 0; wave < 6; wave++) {
      await pause(70);
      for (let i = 0; i < 20; i++) connect(cursors[(wave * 20 + i * 3) % 500]!);
    }
    await pause(280);
    // ... while the backend is local.
    for (let i = 0; i < 50; i++) connect(cursors[(i * 7) % 500]!);
    redis.thaw();
    await a.untilMode('shared', 20_000);
    // ... and right after it rejoined.
    for (let i = 0; i < 50; i++) connect(cursors[(i * 11) % 500]!);
    await pause(1500);
    publishing = false;
    await publisher;
    await waitFor(() => a.backend.state().inFlight === 0 && record.every((p) => p.resolvedAt !== Infinity), 'every publish settled', 20_000);
    await pause(300);

    const lost: string[] = [];
    const duplicates: string[] = [];
    sinks.forEach(({ sink, from }, i) => {
      const verdict = judge(sink, record, from);
      if (verdict.lost.length) lost.push(`stream ${i}: ${verdict.lost.slice(0, 5).join(',')}`);
      if (verdict.duplicates.length) duplicates.push(`stream ${i}: ${verdict.duplicates.slice(0, 5).join(',')}`);
    });
    return { state: a.backend.state(), streams: sinks.length, publishes: record.length, lost, duplicates };
  }

  // Redis freezes as the storm's first reads are sent, a little later, and once most were answered.
  for (const freezeAfterMs of [0, 30, 150]) {
    it(`gets every signal to every stream once, or a reset after it, when Redis freezes ${freezeAfterMs} ms into a replay storm`, async () => {
      const { state, streams, publishes, lost, duplicates } = await storm(freezeAfterMs);
      console.log(
        `[fallback storm] freeze at +${freezeAfterMs} ms: ${streams} streams, ${publishes} publishes, ${state.localPublishes} local, ` +
          `${state.gaps} gaps; ${lost.length} streams lost something, ${duplicates.length} got something twice`,
      );
      expect(state.outages, 'the freeze must make the backend fall back').toBe(1);
      expect({ lost, duplicates }).toEqual({ lost: [], duplicates: [] });
    }, 60_000);
  }
});
