// Public API of the framework-free core. Everything else in this folder is internal.
export { createHub, Hub } from './hub';
export type {
  ConnectionOwner,
  ConnectOptions,
  HubOptions,
  HubStats,
  InvalidateInput,
  PublishOptions,
  PublishReceipt,
} from './hub';
export { LiveConnection } from './connection';
export { defaultOutboxLimits, Outbox } from './outbox';
export type { OutboxLimits } from './outbox';
export { laneIntervalMs, throttleFactor } from './throttle';
export type { ThrottleSettings } from './throttle';
export { assertGroupFilter, assertGroups, groupsMatch } from './groups';
export type { ConnectionGroups, GroupFilter } from './groups';
export { createMemoryBackend } from './backend';
export type {
  BackendHealth,
  BackendListener,
  LiveBackend,
  MemoryBackendOptions,
  PublishRequest,
  PublishedEntry,
} from './backend';
export { createMemoryReplayLog } from './replayLog';
export type { ReplayLogOptions, ReplayResult, ReplayStore } from './replayLog';
export { systemTimers } from './clock';
export type { LiveTimers, TimerHandle } from './clock';
export { createManualTimers } from './manualTimers';
export type { ManualTimers } from './manualTimers';
export { combineMetrics, noopMetrics } from './metrics';
export type { LiveMetrics } from './metrics';
export { LiveError, isLiveError } from './errors';
export type { LiveErrorCode } from './errors';
export { formatCursor, parseCursor, newEpoch, MAX_CURSOR_LENGTH, MAX_CURSOR_BEYOND } from './cursor';
export type { Cursor } from './cursor';
export { assertPattern, assertTopic, matchTopic, MAX_TOPIC_LENGTH, MAX_TOPIC_TOKENS } from './topic';
export { TopicIndex } from './topicIndex';
export { assertSignal, compactionKey, defaultTopic, keyOf, isIdempotent, MAX_BATCH_EVENTS } from './signal';
export type {
  BatchSignal,
  CompleteSignal,
  DomainSignal,
  EventSignal,
  InvalidateSignal,
  Lane,
  LiveAction,
  LiveControlMessage,
  LiveDataMessage,
  LiveHint,
  LiveJson,
  LiveMessage,
  LiveSignal,
  ProgressSignal,
  ResetReason,
  ResetSignal,
} from './signal';
export type { CloseReason, Frame, LiveSink } from './sink';
