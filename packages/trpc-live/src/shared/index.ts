// Public API shared by browser and server, with no runtime imports: the resource registry,
// the stream's message types, the cursor format and the fence header.
export { defineResources } from '../trpc/registry.ts';
export type {
  QueryBinding,
  ResourceDefinition,
  ResourceIdKind,
  ResourceRegistry,
  inferResourceId,
  inferResourceName,
} from '../trpc/registry.ts';
export { LIVE_FENCE_HEADER } from '../trpc/publishLog.ts';
export type { PublishedKey } from '../trpc/publishLog.ts';
export { formatCursor, parseCursor, MAX_CURSOR_LENGTH } from '../core/cursor.ts';
export type { Cursor } from '../core/cursor.ts';
// Every message and signal type (signal.ts exports types for nothing else).
export type * from '../core/signal.ts';
