// Public API of the tRPC server binding.
export { createLive, intersectTopics, SINGLE_SCOPE } from './createLive.ts';
export { covers, intersectPatterns } from '../shared/topic.ts';
export type { CreateLiveOptions, InvalidationMiddlewareOptions, Live, PublishProblem } from './createLive.ts';
export { LiveStream, isLiveStream } from './liveStream.ts';
export { toTRPCError } from './toTRPCError.ts';
export { SESSION_EXPIRED, streamEnd } from './closePolicy.ts';
export type { StreamEnd } from './closePolicy.ts';
export { appendRetryHint, serverClosedStream, sseRetry } from './retryHint.ts';
export type { LiveStreamItem, LiveStreamRequest } from './liveStream.ts';
export { liveStreamInput, MAX_STREAM_TOPICS } from './liveInput.ts';
export { liveWatchInput, MAX_WATCH_CHANGES, MAX_WATCH_KEY_LENGTH } from './watchInput.ts';
export type { LiveWatchInput } from './watchInput.ts';
export type { PushStats } from './pushResults.ts';
export { DEFAULT_DELTA_BASE_BYTES } from './pushBases.ts';
export type { LiveStreamInput } from './liveInput.ts';
export type {
  DeclaredInvalidates,
  InvalidatesArgs,
  InvalidatesDeclaration,
  InvalidatesFn,
  InvalidationKey,
  inferInvalidationKey,
  LiveMeta,
} from './meta.ts';
export { createPublishLog, fenceHeader, publishLogOf, recordPublish, withPublishLog } from './publishLog.ts';
export type { PublishLog } from './publishLog.ts';
export { LIVE_FENCE_HEADER } from '../shared/fence.ts';
export type { PublishedKey } from '../shared/fence.ts';
export { checkResources } from './checkResources.ts';
export type { CheckedResources, RegistryError, inferQueryInput, inferQueryInputKeys, inferQueryPaths } from './checkResources.ts';
export { declaredResources, parseProcedureInput, resolveInvalidations } from './resolveInvalidations.ts';
export type { ResolvedInvalidations, ResolveInvalidationsOptions, RouterSource } from './resolveInvalidations.ts';
export { analyzeCoverage, formatCoverage } from './analyzeCoverage.ts';
export { createPublisher } from './publisher.ts';
export type {
  CreatePublisherOptions,
  Publisher,
  PublisherDeclaration,
  PublisherInvalidateOptions,
  PublisherPayloadArgs,
  PublisherSendOptions,
} from './publisher.ts';
export type { AnalyzeCoverageOptions, CoverageReport, MutationCoverage, ResourceCoverage } from './analyzeCoverage.ts';
export type { PublisherRecord } from './publisherRecords.ts';
export type { LiveLogger } from '../shared/logger.ts';
export { liveSseOptions } from './sseOptions.ts';
export type { LiveSseSettings } from './sseOptions.ts';
