import type { QueryClient } from '@tanstack/react-query';
import type { LiveVisibility } from 'trpc-live/client';

/**
 * Variant (a): the article's `setInterval`: one timer per page refetches all
 * its queries (one batched request), on screen or not. TanStack's
 * refetchInterval would stop in the background, and its per-query timers
 * drift apart under load and split the batch. Returns the stop function.
 */
export function pollEveryTab(queryClient: QueryClient, pollMs: number): () => void {
  const timer = setInterval(() => void queryClient.refetchQueries({ type: 'active' }), pollMs);
  return () => clearInterval(timer);
}

/**
 * TanStack Query's own defaults for an app that polls: `staleTime: 0` (data
 * is stale once fetched) and `refetchOnWindowFocus: true`. The app's defaults
 * (`staleTime: Infinity`, no refetch on focus: src/trpc/queryClient.ts) are a
 * live app's, kept fresh by the stream; with them a polling app would never
 * refetch on focus. Applied to the tab's client before its queries mount.
 */
export function applyTanStackPollingDefaults(queryClient: QueryClient): void {
  const defaults = queryClient.getDefaultOptions();
  queryClient.setDefaultOptions({ ...defaults, queries: { ...defaults.queries, staleTime: 0, refetchOnWindowFocus: true } });
}

/**
 * Variant (b): TanStack's `refetchInterval` with `refetchIntervalInBackground:
 * false`, and refetch on window focus.
 *
 * - The interval: TanStack's timer runs from the observer's mount whether or
 *   not the tab is on screen, and each tick fetches only if focusManager says
 *   the page is focused, without cancelling a fetch in flight. TanStack's
 *   focusManager is one per process (not per simulated tab), so the tab's own
 *   visibility stands in for it; one timer per page, as in (a), so the page's
 *   queries go out in one batched request, as mount-aligned timers would.
 * - The focus: when the tab is brought to the front it runs TanStack's own
 *   focus path for its client (`QueryCache.onFocus`: each query whose observer
 *   wants it, stale with `staleTime: 0`, refetches without cancelling a fetch
 *   in flight), as the process-wide focusManager would for a browser tab.
 *
 * Returns the stop function.
 */
export function pollTabOnScreen(queryClient: QueryClient, visibility: LiveVisibility, pollMs: number): () => void {
  const timer = setInterval(() => {
    if (visibility.isVisible()) void queryClient.refetchQueries({ type: 'active' }, { cancelRefetch: false });
  }, pollMs);
  const unsubscribe = visibility.subscribe((visible) => {
    if (visible) queryClient.getQueryCache().onFocus();
  });
  return () => {
    clearInterval(timer);
    unsubscribe();
  };
}
