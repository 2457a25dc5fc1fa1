/**
 * The four variants of the article benchmark (issue 17 item 8), in report
 * order. Every variant of a run gets the same seeded tabs, tab switches and
 * mutation workload.
 *
 * - `polling`: the article's `setInterval`: every tab refetches its page's
 *   queries every poll interval, on screen or not.
 * - `polling-visible`: TanStack Query's own polling: `refetchInterval` with
 *   `refetchIntervalInBackground: false` (only the tab on screen polls) and
 *   refetch on window focus with TanStack's default `staleTime: 0` (a tab
 *   brought to the front refetches its queries at once).
 * - `live`: the app without pushed results (no watch call): invalidate, then
 *   refetch.
 * - `pushed`: the app with pushed results: the browser watches the pushable
 *   queries it holds and applies the results the server pushes.
 */
export const VARIANTS = ['polling', 'polling-visible', 'live', 'pushed'] as const;

/** One of {@link VARIANTS}. */
export type Variant = (typeof VARIANTS)[number];

/** Whether a variant holds the live stream (the others poll). */
export const isLive = (variant: Variant): boolean => variant === 'live' || variant === 'pushed';

/** Short labels for table headers. */
export const VARIANT_LABEL: Readonly<Record<Variant, string>> = {
  polling: '(a) polling every tab',
  'polling-visible': '(b) TanStack polling, tab on screen',
  live: '(c) live: invalidate + refetch',
  pushed: '(d) live: pushed results',
};

/**
 * The order of the variants in run `run` (1-based): rotated by one each run,
 * so drift of a shared machine over a run favours no variant.
 */
export function variantOrder(run: number): Variant[] {
  const shift = (run - 1) % VARIANTS.length;
  return [...VARIANTS.slice(shift), ...VARIANTS.slice(0, shift)];
}
