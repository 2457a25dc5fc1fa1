// Public API of the fast live transport (node:http, tRPC's SSE wire protocol).
export { createLiveTransport } from './liveTransport.ts';
export type {
  LiveTransport,
  LiveTransportContextOptions,
  LiveTransportErrorOptions,
  LiveTransportOptions,
} from './liveTransport.ts';
export { SocketSink } from './socketSink.ts';
export type { SocketSinkHost } from './socketSink.ts';
export { createStreamErrors } from './streamErrors.ts';
export type { StreamErrors } from './streamErrors.ts';
export { Heartbeat } from './heartbeat.ts';
export type { HeartbeatMember } from './heartbeat.ts';
export { SSE_PING, SSE_RETURN, isSendableEventId, sseConnected, sseRetry, sseSerializedError, sseTracked, sseUntracked } from './sseFormat.ts';
export { createGracefulShutdown } from './gracefulShutdown.ts';
export type { GracefulShutdown, GracefulShutdownOptions, ShutdownReport } from './gracefulShutdown.ts';
export { nodeHandlerFromFetch, writeFetchResponse } from './fetchHandler.ts';
export type { NodeFetchHandlerOptions } from './fetchHandler.ts';
