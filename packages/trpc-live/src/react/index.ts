// Public API of the React binding (no Next imports).
export { LiveProvider, useLiveInvalidator, useLiveMessages, useLiveStatus } from './LiveProvider.tsx';
export type { LiveProviderProps } from './LiveProvider.tsx';
export { LiveCursorSeed } from './LiveCursorSeed.tsx';
export type { LiveCursorSeedProps } from './LiveCursorSeed.tsx';
export { createSharedLiveStream, DEFAULT_PAUSE_AFTER_MS } from './sharedLiveStream.ts';
export type {
  ChannelLike,
  LiveTabRole,
  LockManagerLike,
  PageLike,
  SharedLiveStream,
  SharedLiveStreamOptions,
  SharedLiveStreamStatus,
  StreamEvents,
  Unsubscribable,
} from './sharedLiveStream.ts';
export type { LiveStreamProcedure } from './streamSubscriber.ts';
