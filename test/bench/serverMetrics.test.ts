import { describe, expect, it } from 'vitest';
import { histogramDelta, histogramQuantile, histogramSum, parseHistogram } from '../../bench/lib/serverMetrics';

// The article benchmark reads the server's own push latency histogram (trpc_live_push_to_write_seconds)
// between phases. Expected values are counted by hand from the text below.

const text = (counts: number[]) =>
  [
    '# HELP x_seconds help',
    '# TYPE x_seconds histogram',
    `x_seconds_bucket{le="0.005"} ${counts[0]}`,
    `x_seconds_bucket{le="0.01"} ${counts[1]}`,
    `x_seconds_bucket{le="0.05"} ${counts[2]}`,
    `x_seconds_bucket{le="+Inf"} ${counts[3]}`,
    `x_seconds_sum 1.5`,
    `x_seconds_count ${counts[3]}`,
    'x_seconds_other_bucket{le="0.005"} 999',
  ].join('\n');

describe('server histogram figures', () => {
  it('parses the buckets and count of one histogram, leaving others out', () => {
    expect(parseHistogram(text([1, 2, 3, 4]), 'x_seconds')).toEqual({
      buckets: [
        [0.005, 1],
        [0.01, 2],
        [0.05, 3],
        [Infinity, 4],
      ],
      count: 4,
    });
    expect(() => parseHistogram(text([1, 2, 3, 4]), 'y_seconds')).toThrow(/no histogram y_seconds/);
  });

  it('takes the phase as the difference of two scrapes, sums runs, and answers the bucket bound of a quantile', () => {
    const before = parseHistogram(text([10, 10, 10, 10]), 'x_seconds');
    // 100 samples in the phase: 50 ≤ 5 ms, 48 in (5, 10] ms, 1 in (10, 50] ms, 1 over 50 ms.
    const phase = histogramDelta(before, parseHistogram(text([60, 108, 109, 110]), 'x_seconds'));
    expect(phase.count).toBe(100);
    expect(histogramQuantile(phase, 0.5)).toBe(0.005);
    expect(histogramQuantile(phase, 0.51)).toBe(0.01);
    expect(histogramQuantile(phase, 0.98)).toBe(0.01);
    expect(histogramQuantile(phase, 0.99)).toBe(0.05);
    expect(histogramQuantile(phase, 1)).toBe(Infinity);
    expect(histogramQuantile(histogramDelta(before, before), 0.5)).toBeNaN();
    const two = histogramSum([phase, phase]);
    expect(two.count).toBe(200);
    expect(two.buckets[1]).toEqual([0.01, 196]);
    expect(histogramQuantile(two, 0.99)).toBe(0.05);
  });
});
