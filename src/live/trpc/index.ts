// Public API of the tRPC server binding.
export { createLive, covers, intersectPatterns, intersectTopics } from './createLive';
export type { CreateLiveOptions, InvalidationMiddlewareOptions, Live, PublishProblem } from './createLive';
export { LiveStream, isLiveStream, toTRPCError } from './liveStream';
export { appendRetryHint, serverClosedStream, sseRetry } from './retryHint';
export type { LiveStreamItem, LiveStreamRequest } from './liveStream';
export { liveStreamInput, MAX_STREAM_TOPICS } from './liveInput';
export type { LiveStreamInput } from './liveInput';
export type {
  DeclaredInvalidates,
  InvalidatesArgs,
  InvalidatesDeclaration,
  InvalidatesFn,
  InvalidationKey,
  inferInvalidationKey,
  LiveMeta,
} from './meta';
export { createPublishLog, fenceHeader, recordPublish, LIVE_FENCE_HEADER } from './publishLog';
export type { PublishLog, PublishedKey } from './publishLog';
export { defineResources } from './registry';
export type {
  QueryBinding,
  ResourceDefinition,
  ResourceIdKind,
  ResourceRegistry,
  inferResourceId,
  inferResourceName,
} from './registry';
export { checkResources } from './checkResources';
export type { CheckedResources, RegistryError, inferQueryInput, inferQueryInputKeys, inferQueryPaths } from './checkResources';
export { declaredResources, parseProcedureInput, resolveInvalidations } from './resolveInvalidations';
export type { ResolvedInvalidations, ResolveInvalidationsOptions, RouterSource } from './resolveInvalidations';
export { analyzeCoverage, formatCoverage } from './analyzeCoverage';
export type { CoverageReport, MutationCoverage, ResourceCoverage } from './analyzeCoverage';
export { captureInvalidations, capturePublishes } from './testing';
export type { CaptureResult, CaptureSource, CapturedInvalidation } from './testing';
