/**
 * Query defaults for a live app, for `new QueryClient({ defaultOptions: {
 * queries: { ...liveQueryDefaults } } })`: data stays fresh until the server
 * says it changed, so nothing refetches on mount, focus or reconnect, and
 * nothing polls. The stream covers what those refetches were for: a change
 * invalidates the matching queries, and after a reconnect the stream replays
 * what was missed or resets (every active query refetches).
 * `staleTime: Infinity`, `refetchOnWindowFocus: false`, `refetchOnReconnect: false`.
 */
export const liveQueryDefaults = {
  staleTime: Infinity,
  refetchOnWindowFocus: false,
  refetchOnReconnect: false,
} as const;
