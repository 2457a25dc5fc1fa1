import { describe, expect, it } from 'vitest';
import { formatTail, P99_MIN_SAMPLES, tail, tailOfRuns } from '../../bench/lib/report';

/** 1, 2, …, n: the nearest-rank p99 is the value at rank ceil(0.99 n), the max is n. */
const ramp = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('tail (the p99 rule of bench/)', () => {
  it('prints the maximum, labelled max, with n when there are fewer than 300 samples', () => {
    const t = tail(ramp(14));
    expect(t).toEqual({ label: 'max', value: 14, n: 14 });
    expect(formatTail(t)).toBe('max 14.0 ms (n=14)');
  });

  it('still prints max at 299 samples, where a nearest-rank p99 would be the 3rd largest value', () => {
    expect(tail(ramp(299))).toEqual({ label: 'max', value: 299, n: 299 });
  });

  it('prints a nearest-rank p99 with n from 300 samples on', () => {
    // rank ceil(0.99 * 300) = 297; ceil(0.99 * 1000) = 990.
    expect(P99_MIN_SAMPLES).toBe(300);
    expect(tail(ramp(300))).toEqual({ label: 'p99', value: 297, n: 300 });
    expect(formatTail(tail(ramp(1000)), (v) => `${v} µs`)).toBe('p99 990 µs (n=1000)');
  });

  it('prints a dash for no samples', () => {
    expect(formatTail(tail([]))).toBe('max — (n=0)');
  });

  it('takes the median of the runs’ p99s with their range when every run has 300 samples', () => {
    const runs = [ramp(300), ramp(1000), ramp(400).map((v) => v * 2)];
    // p99s: 297, 990, 792 (rank 396 of 400, doubled).
    const t = tailOfRuns(runs);
    expect(t).toMatchObject({ label: 'p99', median: 792, min: 297, max: 990, n: [300, 1000, 400] });
    expect(formatTail(t, (v) => String(v))).toBe('p99 792 (297–990, n=300/1000/400)');
  });

  it('falls back to the maximum for every run when one run has fewer than 300 samples', () => {
    // One label for all runs: the median of two p99s and one max would be neither.
    const t = tailOfRuns([ramp(1000), ramp(50), ramp(2000)]);
    expect(t).toMatchObject({ label: 'max', median: 1000, min: 50, max: 2000, n: [1000, 50, 2000] });
  });
});
