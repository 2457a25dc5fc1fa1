// Public API of the fast live transport (node:http, tRPC's SSE wire protocol).
export { createLiveTransport } from './liveTransport';
export type {
  LiveTransport,
  LiveTransportContextOptions,
  LiveTransportErrorOptions,
  LiveTransportOptions,
} from './liveTransport';
export { SocketSink } from './socketSink';
export type { SocketSinkHost } from './socketSink';
export { createStreamErrors } from './streamErrors';
export type { StreamErrors } from './streamErrors';
export { Heartbeat } from './heartbeat';
export type { HeartbeatMember } from './heartbeat';
export { SSE_PING, SSE_RETURN, isSendableEventId, sseConnected, sseRetry, sseSerializedError, sseTracked, sseUntracked } from './sseFormat';
export { createGracefulShutdown } from './gracefulShutdown';
export type { GracefulShutdown, GracefulShutdownOptions, ShutdownReport } from './gracefulShutdown';
export { nodeHandlerFromFetch, writeFetchResponse } from './fetchHandler';
export type { NodeFetchHandlerOptions } from './fetchHandler';
