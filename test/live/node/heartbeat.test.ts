import { afterEach, describe, expect, it, vi } from 'vitest';
import { Heartbeat } from 'trpc-live/node';

afterEach(() => {
  vi.useRealTimers();
});

/** A heartbeat of `count` members on a stepped clock, each visit costing `visitMs`; `beats` lists the members visited, in order. */
function steppedHeartbeat(count: number, visitMs: number) {
  vi.useFakeTimers();
  const clock = { t: 0 };
  const heartbeat = new Heartbeat(1_000, () => clock.t);
  const beats: number[] = [];
  const members = Array.from({ length: count }, (_, i) => ({
    beat: () => {
      beats.push(i);
      clock.t += visitMs;
    },
  }));
  for (const member of members) heartbeat.add(member);
  return { heartbeat, members, beats };
}

describe('Heartbeat: a tick is visited in slices, so many due pings do not hold the event loop', () => {
  it('yields after about 4 ms of visits and goes on in later turns, each member once, in order', () => {
    const { heartbeat, beats } = steppedHeartbeat(200, 0.1);
    vi.advanceTimersToNextTimer(); // the interval: the tick's first slice
    // The clock is read every 32 visits: 3.2 ms, then 6.4 ms (past 4 ms).
    expect(beats).toHaveLength(64);
    vi.advanceTimersToNextTimer(); // setImmediate: the next slice
    expect(beats).toHaveLength(128);
    vi.advanceTimersToNextTimer();
    vi.advanceTimersToNextTimer();
    expect(beats).toEqual(Array.from({ length: 200 }, (_, i) => i));
    heartbeat.stop();
  });

  it('visits a cheap tick in one turn', () => {
    const { heartbeat, beats } = steppedHeartbeat(1_000, 0);
    vi.advanceTimersToNextTimer();
    expect(beats).toHaveLength(1_000);
    heartbeat.stop();
  });

  it('skips a member that left between two slices, and stops visiting once stopped', () => {
    const { heartbeat, members, beats } = steppedHeartbeat(200, 0.1);
    vi.advanceTimersToNextTimer();
    heartbeat.delete(members[100]!);
    vi.advanceTimersToNextTimer();
    expect(beats).toHaveLength(127);
    expect(beats).not.toContain(100);
    heartbeat.stop();
    vi.advanceTimersToNextTimer();
    vi.advanceTimersByTime(5_000);
    expect(beats).toHaveLength(127);
  });

  it('skips a tick that comes while the previous one is still being visited', () => {
    const { heartbeat, members, beats } = steppedHeartbeat(200, 0.1);
    // While member 10 is visited, the next period comes (as on a machine too busy to finish a tick in one).
    const slow = members[10]!;
    const beat = slow.beat;
    slow.beat = () => {
      beat();
      slow.beat = beat;
      vi.advanceTimersByTime(1_000);
    };
    vi.advanceTimersToNextTimer();
    for (let i = 0; i < 5; i++) vi.advanceTimersToNextTimer();
    heartbeat.stop();
    // Every member once (one tick, then the next), none visited twice by overlapping ticks.
    const visits = new Map<number, number>();
    for (const i of beats) visits.set(i, (visits.get(i) ?? 0) + 1);
    expect(visits.size).toBe(200);
    expect(beats.slice(0, 200)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });
});
