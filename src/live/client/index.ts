// Public API of the client side (no React).
export { liveLink, readFence } from './liveLink';
export type { LiveLinkOptions } from './liveLink';
export { createLiveInvalidator, DEFAULT_BATCH_WINDOW_MS, focusVisibility, LiveInvalidator } from './invalidator';
export type { LiveInvalidatorOptions, LiveInvalidatorStats, LiveMessageListener, LiveVisibility } from './invalidator';
export { createQueryMatcher, parseQueryKey } from './queryMatcher';
export type { ChangedKey, ParsedQueryKey, QueryMatcher } from './queryMatcher';
export { credentialEventSource } from './credentialEventSource';
export type { CredentialEventSourceOptions, FetchingEventSourceClass } from './credentialEventSource';
