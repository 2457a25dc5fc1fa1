import { metricsAuthorization } from './appServer';

/**
 * Reads one Prometheus histogram of the server under test (`GET /api/metrics`
 * with the METRICS_TOKEN bench/lib/appServer.ts gives it), so a benchmark can report the server's own part of
 * a latency from the figure an operator sees. A histogram gives counts per
 * bucket, not samples: a quantile is known only up to the bucket that holds
 * it, so {@link histogramQuantile} answers that bucket's upper bound ("≤").
 */

/** A histogram's cumulative counts: `le` (seconds) → samples at or under it, in increasing `le`, `+Inf` last. */
export interface Histogram {
  readonly buckets: ReadonlyArray<readonly [le: number, count: number]>;
  readonly count: number;
}

/** Parses histogram `name`'s unlabelled buckets out of Prometheus text. @throws when the text does not hold it. */
export function parseHistogram(text: string, name: string): Histogram {
  const buckets: Array<[number, number]> = [];
  let count: number | undefined;
  const bucket = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`);
  for (const line of text.split('\n')) {
    const match = bucket.exec(line);
    if (match) buckets.push([match[1] === '+Inf' ? Infinity : Number(match[1]), Number(match[2])]);
    else if (line.startsWith(`${name}_count `)) count = Number(line.slice(name.length + 7));
  }
  if (!buckets.length || count === undefined) throw new Error(`the server's metrics hold no histogram ${name}`);
  buckets.sort((a, b) => a[0] - b[0]);
  return { buckets, count };
}

/** GETs `/api/metrics` of an app server started by `startAppServer` (its `metricsAuthorization`) and parses histogram `name`. */
export async function scrapeHistogram(url: string, name: string): Promise<Histogram> {
  const res = await fetch(`${url}/api/metrics`, { headers: { authorization: metricsAuthorization }, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET /api/metrics: ${res.status}`);
  return parseHistogram(await res.text(), name);
}

/** What was observed between two scrapes of one histogram (same buckets). */
export function histogramDelta(before: Histogram, after: Histogram): Histogram {
  return {
    buckets: after.buckets.map(([le, count], i) => {
      const [lePrior, prior] = before.buckets[i] ?? [le, 0];
      if (lePrior !== le) throw new Error('histogram buckets changed between scrapes');
      return [le, count - prior] as const;
    }),
    count: after.count - before.count,
  };
}

/** Adds histograms of the same buckets (several runs' phases). */
export function histogramSum(histograms: readonly Histogram[]): Histogram {
  if (!histograms.length) return { buckets: [], count: 0 };
  return {
    buckets: histograms[0]!.buckets.map(([le], i) => [le, histograms.reduce((total, h) => total + h.buckets[i]![1], 0)] as const),
    count: histograms.reduce((total, h) => total + h.count, 0),
  };
}

/**
 * The upper bound (seconds) of the bucket holding quantile `q`: at least a
 * share `q` of the samples were at or under it. `NaN` without samples;
 * `Infinity` when the quantile is past the last finite bucket.
 */
export function histogramQuantile(histogram: Histogram, q: number): number {
  if (histogram.count <= 0) return NaN;
  const rank = q * histogram.count;
  for (const [le, count] of histogram.buckets) if (count >= rank) return le;
  return Infinity;
}
