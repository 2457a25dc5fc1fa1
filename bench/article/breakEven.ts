import { fmt } from '../lib/report';

/** Where live's cost (requests or CPU) meets polling's, and how the figure was obtained. */
export interface BreakEven {
  readonly rate: number;
  readonly how: 'measured' | 'interpolated' | 'extrapolated' | 'none';
}

/**
 * Where the live variant stops beating polling: the mutation rate at which
 * `diff` (live − polling) crosses zero, interpolated linearly between the
 * two measured phases around it, or extrapolated from the last two when it
 * never crossed in the measured range.
 */
export function breakEven(points: ReadonlyArray<{ rate: number; diff: number }>): BreakEven {
  const sorted = points.filter((p) => Number.isFinite(p.diff)).sort((a, b) => a.rate - b.rate);
  if (!sorted.length) return { rate: NaN, how: 'none' };
  if (sorted[0]!.diff >= 0) return { rate: sorted[0]!.rate, how: 'measured' };
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (b.diff >= 0) return { rate: a.rate + ((0 - a.diff) * (b.rate - a.rate)) / (b.diff - a.diff), how: 'interpolated' };
  }
  const a = sorted.at(-2);
  const b = sorted.at(-1)!;
  if (!a || b.diff <= a.diff) return { rate: NaN, how: 'none' };
  return { rate: b.rate + (0 - b.diff) / ((b.diff - a.diff) / (b.rate - a.rate)), how: 'extrapolated' };
}

/** The break-even in words, for the report; `subject` names the variant that costs less below it. @default 'live' */
export function describeBreakEven(even: BreakEven, subject = 'live'): string {
  switch (even.how) {
    case 'measured':
      return `${subject} costs more already at ${fmt(even.rate, 1)} mutations per tenant per minute`;
    case 'interpolated':
      return `about ${fmt(even.rate, 1)} mutations per tenant per minute (interpolated between the two measured phases around it); below that rate ${subject} costs less`;
    case 'extrapolated':
      return `about ${fmt(even.rate, 1)} mutations per tenant per minute (extrapolated from the two fastest phases: not reached in the measured range)`;
    default:
      return 'not reached and not extrapolable from the measured phases';
  }
}

