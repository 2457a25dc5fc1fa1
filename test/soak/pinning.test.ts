import { describe, expect, it } from 'vitest';
import { planCpuPinning } from '../../bench/lib/cpuPinning';
import { SOAK_PINNING } from '../../soak/lib/pinning';

describe('soak CPU pinning (soak/lib/pinning.ts)', () => {
  it('pins servers to the first CPU and the rest to the others, named for the soak', () => {
    const plan = planCpuPinning([0, 1], true, {}, SOAK_PINNING);
    expect(plan).toMatchObject({ pinned: true, server: '0', clients: '1' });
    expect(plan.note).toBe('server processes pinned to CPU 0; client processes, the runner and redis-server to CPU 1 (`taskset`)');
  });

  it('is turned off by SOAK_PIN=0, not by the benchmarks\' BENCH_PIN=0', () => {
    expect(planCpuPinning([0, 1], true, { SOAK_PIN: '0' }, SOAK_PINNING)).toMatchObject({ pinned: false, note: expect.stringContaining('SOAK_PIN=0') });
    expect(planCpuPinning([0, 1], true, { BENCH_PIN: '0' }, SOAK_PINNING)).toMatchObject({ pinned: true });
    expect(planCpuPinning([0, 1], true, { SOAK_PIN: '0' })).toMatchObject({ pinned: true });
  });

  it('pins nothing on one CPU or without taskset', () => {
    expect(planCpuPinning([3], true, {}, SOAK_PINNING)).toMatchObject({ pinned: false, note: expect.stringContaining('1 CPU(s) allowed') });
    expect(planCpuPinning([0, 1], false, {}, SOAK_PINNING)).toMatchObject({ pinned: false, note: expect.stringContaining('`taskset` is not installed') });
  });
});
