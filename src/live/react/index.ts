// Public API of the React binding (no Next imports).
export { LiveProvider, useLiveInvalidator, useLiveMessages, useLiveStatus } from './LiveProvider';
export type { LiveProviderProps } from './LiveProvider';
export { createSharedLiveStream, DEFAULT_PAUSE_AFTER_MS } from './sharedLiveStream';
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
} from './sharedLiveStream';
