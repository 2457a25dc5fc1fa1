// Public API of the tRPC server binding.
export { createLive, covers, intersectTopics } from './createLive';
export type { CreateLiveOptions, Live } from './createLive';
export { LiveStream, isLiveStream } from './liveStream';
export type { LiveStreamItem, LiveStreamRequest } from './liveStream';
export { liveStreamInput, MAX_STREAM_TOPICS } from './liveInput';
export type { LiveStreamInput } from './liveInput';
export type { InvalidatesArgs, InvalidatesDeclaration, InvalidationKey, LiveMeta } from './meta';
export { createPublishLog, fenceHeader, recordPublish, LIVE_FENCE_HEADER } from './publishLog';
export type { PublishLog, PublishedKey } from './publishLog';
export { defineResources } from './registry';
export type { QueryBinding, ResourceDefinition, ResourceRegistry, inferResourceName } from './registry';
export { captureInvalidations, capturePublishes } from './testing';
export type { CaptureResult, CapturedInvalidation } from './testing';
