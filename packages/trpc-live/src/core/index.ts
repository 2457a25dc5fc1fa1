// Public API of the framework-free core. Everything else in this folder is internal.
export { createHub, Hub } from './hub.ts';
export { processHub, resetProcessHub } from './processHub.ts';
export type {
  ConnectionOwner,
  ConnectOptions,
  HubOptions,
  HubStats,
  InvalidateInput,
  PublishOptions,
  PublishReceipt,
} from './hub.ts';
export { LiveConnection } from './connection.ts';
// The defaults `HubOptions` documents (limits, metrics) stay public: an option's @default names them.
export { defaultOutboxLimits } from './outbox.ts';
export type { OutboxLimits } from './outbox.ts';
export { groupsMatch } from './groups.ts';
export { receives } from './receives.ts';
export type { ConnectionGroups, GroupFilter } from './groups.ts';
export { createMemoryBackend } from './backend.ts';
export type {
  BackendHealth,
  BackendListener,
  LiveBackend,
  MemoryBackendOptions,
  PublishRequest,
  PublishedEntry,
} from './backend.ts';
export { createMemoryReplayLog } from './replayLog.ts';
export type { ReplayLogOptions, ReplayResult, ReplayStore } from './replayLog.ts';
export { systemTimers } from './clock.ts';
export type { LiveTimers, TimerHandle } from './clock.ts';
export { combineMetrics, noopMetrics } from './metrics.ts';
export type { LiveMetrics } from './metrics.ts';
export { LiveError, isLiveError } from '../shared/errors.ts';
export type { LiveErrorCode } from '../shared/errors.ts';
export { formatCursor, parseCursor, newEpoch, MAX_CURSOR_LENGTH } from '../shared/cursor.ts';
export type { Cursor } from '../shared/cursor.ts';
export { assertPattern, matchTopic } from '../shared/topic.ts';
// Every message and signal type, defined in the shared module.
export type * from '../shared/messages.ts';
export { LANES } from '../shared/messages.ts';
export type { CloseReason, Frame, LiveSink } from './sink.ts';
