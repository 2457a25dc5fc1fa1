import { QueryClient, QueryObserver } from '@tanstack/react-query';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { applyTanStackPollingDefaults, pollEveryTab, pollTabOnScreen } from '../../bench/article/polling';
import { createTabPage } from '../../bench/article/tabPage';
import { makeQueryClient } from '../../src/trpc/queryClient';

/** A tab's client with two observed queries whose fetches are counted. */
function tab(queryClient: QueryClient) {
  const fetches = { a: 0, b: 0 };
  const stops = (['a', 'b'] as const).map((name) =>
    new QueryObserver(queryClient, { queryKey: [name], queryFn: async () => ++fetches[name] }).subscribe(() => undefined),
  );
  return { fetches, stop: () => stops.forEach((stop) => stop()) };
}

describe('article benchmark: the polling variants', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('polls every query of a hidden tab every interval in (a)', async () => {
    const queryClient = makeQueryClient();
    const { fetches, stop } = tab(queryClient);
    await vi.advanceTimersByTimeAsync(1);
    const stopPolling = pollEveryTab(queryClient, 5000);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(fetches).toEqual({ a: 4, b: 4 }); // the mount, then 3 polls
    stopPolling();
    stop();
  });

  it('polls only while the tab is on screen and refetches every query when it is brought to the front in (b)', async () => {
    const queryClient = makeQueryClient();
    applyTanStackPollingDefaults(queryClient);
    const page = createTabPage(false);
    const { fetches, stop } = tab(queryClient);
    await vi.advanceTimersByTimeAsync(1);
    const stopPolling = pollTabOnScreen(queryClient, page, 5000);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(fetches).toEqual({ a: 1, b: 1 }); // hidden: the mount only
    page.setVisible(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(fetches).toEqual({ a: 2, b: 2 }); // refetch on focus, at once
    await vi.advanceTimersByTimeAsync(4999); // the timer runs from the mount: its tick at 20 s polls
    expect(fetches).toEqual({ a: 3, b: 3 });
    page.setVisible(false);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(fetches).toEqual({ a: 3, b: 3 });
    stopPolling();
    stop();
  });

  it('does not refetch on focus with the live app\u2019s own defaults (staleTime Infinity), which (b) replaces', async () => {
    const queryClient = makeQueryClient();
    const page = createTabPage(false);
    const { fetches, stop } = tab(queryClient);
    await vi.advanceTimersByTimeAsync(1);
    const stopPolling = pollTabOnScreen(queryClient, page, 5000);
    page.setVisible(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(fetches).toEqual({ a: 1, b: 1 });
    stopPolling();
    stop();
  });
});
