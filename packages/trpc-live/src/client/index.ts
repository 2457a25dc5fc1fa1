// Public API of the client side (no React).
export { liveLink, readFence } from './liveLink.ts';
export type { LiveLinkOptions } from './liveLink.ts';
export { createLiveInvalidator, DEFAULT_BATCH_WINDOW_MS, focusVisibility, LiveInvalidator } from './invalidator.ts';
export type { AppliedChange, LiveInvalidatorOptions, LiveInvalidatorStats, LiveMessageListener, LiveVisibility } from './invalidator.ts';
export { createQueryMatcher, parseQueryKey, queryKeyPrefix } from '../shared/queryMatcher.ts';
export type { ChangedKey, ParsedQueryKey, QueryMatcher, QueryMatcherOptions } from '../shared/queryMatcher.ts';
export { credentialEventSource } from './credentialEventSource.ts';
export type { CredentialEventSourceOptions, FetchingEventSourceClass } from './credentialEventSource.ts';
export { liveLinks } from './liveLinks.ts';
export type { LiveLinksOptions } from './liveLinks.ts';
export { liveQueryDefaults } from './queryDefaults.ts';
export { DEFAULT_HOLD_MS } from './pushedResults.ts';
export type { PushedResultsStats } from './pushedResults.ts';
export { DEFAULT_WATCH_BATCH_MS } from './watchSync.ts';
export type { LiveWatchCall, LiveWatchRequest, WatchRoute } from './watchSync.ts';
export { WatchUnion } from './watchUnion.ts';
export type { WatchUnionOptions } from './watchUnion.ts';
