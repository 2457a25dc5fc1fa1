// Public API shared by browser and server. Every file in this folder imports nothing outside it: the
// stream's messages and lanes, the cursor format, the resource registry, the fence header and the
// topic algebra. The client and React entries depend on this and on nothing server-side.
export { defineResources } from './registry.ts';
export type {
  QueryBinding,
  ResourceDefinition,
  ResourceIdKind,
  ResourceRegistry,
  inferResourceId,
  inferResourceName,
} from './registry.ts';
export { defineTopics, liveEvent, liveJob } from './liveTopics.ts';
export type {
  EventDeclaration,
  EventTopic,
  JobDeclaration,
  JobTopic,
  JobUpdate,
  TopicDeclarations,
  TopicEvent,
  TopicRegistry,
  inferEventData,
  inferEventName,
  inferJobName,
  inferJobProgress,
  inferJobResult,
  inferTopic,
} from './liveTopics.ts';
export { LIVE_FENCE_HEADER } from './fence.ts';
export type { PublishedKey } from './fence.ts';
export { formatCursor, parseCursor, MAX_CURSOR_LENGTH } from './cursor.ts';
export type { Cursor } from './cursor.ts';
export { covers, intersectPatterns, matchTopic } from './topic.ts';
export { LiveError, isLiveError } from './errors.ts';
export type { LiveErrorCode } from './errors.ts';
export { consoleLogger } from './logger.ts';
export type { LiveLogger } from './logger.ts';
export { applyDelta, DeltaMismatch, diffValues } from './delta.ts';
export type { DeltaEntry, DeltaPatch } from './delta.ts';
export { LANES } from './messages.ts';
// Every message and signal type.
export type * from './messages.ts';
export { pushedQueries } from './registry.ts';
export type { PushMode } from './registry.ts';
export { createQueryMatcher, parseQueryKey, queryKeyPrefix } from './queryMatcher.ts';
export type { ChangedKey, ParsedQueryKey, QueryMatcher, QueryMatcherOptions } from './queryMatcher.ts';
export { watchKey, DEFAULT_MAX_RESULT_BYTES, DEFAULT_MAX_WATCHES, DEFAULT_MAX_WATCH_BYTES } from './watches.ts';
export type { WatchRefusal, WatchRequest, WatchResponse, WatchSpec } from './watches.ts';
