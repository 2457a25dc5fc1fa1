/**
 * tRPC 11.22's SSE wire format, as `sseStreamProducer`
 * (`@trpc/server/src/unstable-core-do-not-import/stream/sse.ts`) writes it:
 * each event is its `event:`, `data:` and `id:` lines in that order, then
 * `"\n\n"` (so every event ends with a blank line plus one spare newline,
 * which SSE parsers ignore). Kept byte-identical; the golden test compares
 * these strings with the producer's own output.
 */

/** `event: connected` carrying the client options (`reconnectAfterInactivityMs`). */
export function sseConnected(clientOptions: object | undefined): string {
  return `event: connected\ndata: ${JSON.stringify(clientOptions ?? {})}\n\n\n`;
}

/** A tracked data event: `payload` is the transformer-serialized value as JSON text. */
export function sseTracked(payload: string, id: string): string {
  return `data: ${payload}\nid: ${id}\n\n\n`;
}

/**
 * An untracked data event. After a tracked one (`lastEventId` set), tRPC
 * clears the id for this event (EventSource would otherwise report the old id
 * with it) and restores it with a `restore-id` event clients ignore, so a
 * reconnect still resumes from the last real cursor.
 */
export function sseUntracked(payload: string, lastEventId: string | null): string {
  if (lastEventId === null) return `data: ${payload}\n\n\n`;
  return `data: ${payload}\nid: \n\n\nevent: restore-id\ndata: \nid: ${lastEventId}\n\n\n`;
}

/** Keep-alive event; the client resets its inactivity timer on it. */
export const SSE_PING = 'event: ping\ndata: \n\n\n';

/** Normal end of a subscription: the client stops and does not reconnect. */
export const SSE_RETURN = 'event: return\ndata: \n\n\n';

/** An error event: `data` is the transformer-serialized error shape. */
export function sseSerializedError(serializedShape: unknown): string {
  return `event: serialized-error\ndata: ${JSON.stringify(serializedShape)}\n\n\n`;
}

/**
 * Sets the EventSource reconnection delay (not part of tRPC's producer; a
 * standard SSE field every EventSource honours). Dispatches no event. Shared
 * with the stock route's drain (`live/trpc/retryHint.ts`).
 */
export { sseRetry } from '../trpc/index.ts';

/** True when an id can be echoed in an `id:` line (tRPC drops ids containing NUL, CR or LF). */
export function isSendableEventId(id: string | null | undefined): id is string {
  return typeof id === 'string' && id.length > 0 && !/[\0\n\r]/.test(id);
}
