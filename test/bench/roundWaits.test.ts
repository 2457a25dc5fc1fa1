import { describe, expect, it } from 'vitest';
import { mainThreadSched, schedDelta } from '../../bench/lib/schedstat';
import type { RunFigures } from '../../bench/transport/report';
import { roundWaits } from '../../bench/transport/roundWaits';

const onLinux = process.platform === 'linux';

describe('scheduler times of an event loop (bench/lib/schedstat.ts)', () => {
  it.runIf(onLinux)("counts this thread's CPU time: a 60 ms busy loop adds at least 40 ms", () => {
    const before = mainThreadSched(process.pid);
    const end = performance.now() + 60;
    while (performance.now() < end) {
      // spin
    }
    const delta = schedDelta(before, mainThreadSched(process.pid));
    expect(delta).not.toBeNull();
    expect(delta!.cpuMs).toBeGreaterThanOrEqual(40);
    expect(delta!.waitMs).toBeGreaterThanOrEqual(0);
  });

  it('is null for a process that is not there, and a delta with a missing side is null', () => {
    expect(mainThreadSched(2 ** 30)).toBeNull();
    expect(mainThreadSched(undefined)).toBeNull();
    expect(schedDelta(null, { cpuMs: 1, waitMs: 1 })).toBeNull();
  });
});

describe('roundWaits (bench/transport/roundWaits.ts)', () => {
  // Nine rounds: the fastest third (10, 11, 12 ms) waited 0 ms for a CPU, the slowest (30, 31, 32 ms) 9-11 ms.
  const lasts = [30, 10, 20, 11, 31, 21, 12, 22, 32];
  const run: RunFigures = {
    name: 'fast transport',
    run: 1,
    sizes: [
      {
        connections: 1000,
        heapPerConnectionKB: 7,
        firstClientMs: 1,
        lastClientMs: 21,
        delivered: 1000,
        lastClientRoundsMs: lasts,
        roundsSched: lasts.map((last, i) => ({
          server: { cpuMs: 13, waitMs: last >= 30 ? last - 20 : 0 },
          clients: { cpuMs: last >= 30 ? 20 : 14, waitMs: 0 },
          t0: i * 1000,
          lastAt: i * 1000 + last,
        })),
      },
    ],
    bursts: [],
    healthSamples: [],
    healthUnanswered: 0,
  } as unknown as RunFigures;

  it('sets the slowest third of the rounds beside the fastest, with the waits and CPU of each side', () => {
    const text = roundWaits([run]);
    expect(text).toContain('fast transport, 1000 streams: 9 rounds');
    expect(text).toContain('last client: 11.0 ms / 31.0 ms');
    expect(text).toContain('server event loop: CPU 13.0 ms / 13.0 ms, waiting for a CPU 0.0 ms / 11.0 ms');
    expect(text).toContain("clients' event loop: CPU 14.0 ms / 20.0 ms");
  });

  it('counts the GC pauses that overlap a round, per side', () => {
    // One server pause inside round 1 (t0 1000, 10 ms); one client pause that ends before round 0 starts.
    const text = roundWaits([run], { server: [[1002, 1.5, 'minor']], clients: [[-50, 10, 'minor']] });
    expect(text).toContain('GC pauses overlapping: server 1 of 3 rounds (longest 1.5 ms) / 0 of 3 rounds (longest 0.0 ms); clients 0 of 3 rounds');
  });
});
