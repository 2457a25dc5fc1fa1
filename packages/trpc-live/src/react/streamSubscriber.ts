import type { StreamEvents, Unsubscribable } from './sharedLiveStream.ts';

/**
 * The live subscription as a tRPC client exposes it: `trpcClient.live.stream`
 * (vanilla client). Only `subscribe` is used.
 */
export interface LiveStreamProcedure {
  /** Opens the subscription with `input`; the provider keeps the returned handle and unsubscribes on unmount. */
  subscribe(
    input: { lastEventId?: string },
    opts: {
      onConnectionStateChange?: (connection: { state: string }) => void;
      onError?: (error: { message: string }) => void;
    },
  ): Unsubscribable;
}

/**
 * Opens the stream from `lastEventId` (the invalidator's cursor) and reports
 * when the transport loses it. `get` is read at each open, so a new client
 * object for the same procedure (tRPC's client proxies are new objects on
 * every property read) never reconnects a stream by itself.
 */
export function streamSubscriber(get: () => LiveStreamProcedure, onStopped: (error: { message: string }) => void) {
  return (lastEventId: string | null, events: StreamEvents): Unsubscribable =>
    get().subscribe(lastEventId ? { lastEventId } : {}, {
      onConnectionStateChange(connection) {
        // 'connecting' after the first connection: the link is reconnecting (it resends the last cursor).
        if (connection.state === 'connecting') events.disconnected();
      },
      onError(error) {
        events.disconnected();
        onStopped(error);
      },
    });
}
