import { describe, expect, it } from 'vitest';
import { createRandom } from '../../bench/article/random';
import { runTenantSchedule, SETTLE_LEAD_MS } from '../../bench/article/schedule';

/** A fake clock: sleeping advances it; every event is logged with the time it happened. */
function fakeClock() {
  let time = 1000;
  const log: Array<[string, number]> = [];
  return {
    log,
    now: () => time,
    sleep: async (ms: number) => {
      time += ms;
    },
    advance: (ms: number) => {
      time += ms;
    },
  };
}

interface Rec {
  n: number;
  settled?: boolean;
}

describe('article benchmark: when the data oracle reads the state a mutation left (schedule.ts)', () => {
  it('sends on the seeded schedule and reads each state in the window between its response and the next send', async () => {
    const clock = fakeClock();
    const gaps = [100, 200, 10, 300, 5000]; // the last one ends the phase (duration 1000)
    let g = 0;
    const records: Rec[] = [];
    let sent = 0;
    await runTenantSchedule<Rec>({
      startedAt: 1000,
      durationMs: 1000,
      nextGap: () => gaps[g++]!,
      now: clock.now,
      sleep: clock.sleep,
      mutate: async () => {
        const n = sent++;
        clock.log.push([`send ${n}`, clock.now()]);
        clock.advance(8); // the response takes 8 ms
        clock.log.push([`response ${n}`, clock.now()]);
        return { n };
      },
      settle: async (record) => {
        clock.log.push([`read ${record.n}`, clock.now()]);
        clock.advance(2);
        return { ...record, settled: true };
      },
      records,
    });
    // By hand: sends due at 1000 + 100, 300, 310, 610 (the next, 5610, is past the phase's end at 2000).
    // Read of 0: due 25 ms before send 1 (1275); of 1: send 2 is 2 ms after response 1 (1308), so at once;
    // of 2: 1585; of 3: no next send, so right after its response.
    expect(clock.log).toEqual([
      ['send 0', 1100],
      ['response 0', 1108],
      ['read 0', 1300 - SETTLE_LEAD_MS],
      ['send 1', 1300],
      ['response 1', 1308],
      ['read 1', 1308],
      ['send 2', 1310],
      ['response 2', 1318],
      ['read 2', 1610 - SETTLE_LEAD_MS],
      ['send 3', 1610],
      ['response 3', 1618],
      ['read 3', 1618],
    ]);
    expect(records).toEqual([0, 1, 2, 3].map((n) => ({ n, settled: true })));
  });

  it('keeps the count and due times of the sends whatever the reads cost (the seed alone decides them)', async () => {
    const due = async (readMs: number, responseMs: number) => {
      const clock = fakeClock();
      const random = createRandom(42);
      const sends: number[] = [];
      const records: Rec[] = [];
      await runTenantSchedule<Rec>({
        startedAt: 1000,
        durationMs: 10_000,
        nextGap: () => random.exponential(300),
        now: clock.now,
        sleep: clock.sleep,
        mutate: async () => {
          sends.push(clock.now());
          random.next(); // a mutation draws its own picks from the same source, as actors.ts does
          clock.advance(responseMs);
          return { n: sends.length };
        },
        settle: async (record) => {
          clock.advance(readMs);
          return record;
        },
        records,
      });
      return sends;
    };
    const unread = await due(0, 5); // the schedule with free reads
    expect(unread.length).toBeGreaterThan(20);
    // A read moves a send only when the send is due sooner after the previous response than the read takes.
    const read = await due(SETTLE_LEAD_MS - 5, 5);
    let kept = 0;
    read.forEach((at, i) => {
      if (i > 0 && unread[i - 1]! + 5 + (SETTLE_LEAD_MS - 5) > unread[i]!) return;
      expect(at).toBe(unread[i]);
      kept++;
    });
    expect(kept).toBeGreaterThan(unread.length * 0.8);
    // Slow reads and responses may delay sends, never add or drop one.
    expect((await due(200, 50)).length).toBe(unread.length);
  });

  it('reads every mutation, the last one included, and none twice', async () => {
    const clock = fakeClock();
    const reads: number[] = [];
    const records: Rec[] = [];
    let n = 0;
    await runTenantSchedule<Rec>({
      startedAt: 1000,
      durationMs: 500,
      nextGap: () => 40,
      now: clock.now,
      sleep: clock.sleep,
      mutate: async () => ({ n: n++ }),
      settle: async (record) => {
        reads.push(record.n);
        return { ...record, settled: true };
      },
      records,
    });
    // Sends at 40, 80, ..., 480: 12 of them.
    expect(reads).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(records.every((r) => r.settled)).toBe(true);
  });
});
