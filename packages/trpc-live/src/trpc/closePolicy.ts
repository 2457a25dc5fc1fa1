import { TRPCError } from '@trpc/server';
import type { CloseReason } from '../core/index.ts';

/**
 * The message of the UNAUTHORIZED error that ends a live stream whose
 * credential expired or whose session was signed out, and that refuses a
 * stream opened with an already expired credential. Safe to show; a client
 * may match it to ask the user to sign in again.
 */
export const SESSION_EXPIRED = 'Session expired';

/** The UNAUTHORIZED error of an expired or signed-out stream ({@link SESSION_EXPIRED}). */
export function sessionExpiredError(): TRPCError {
  return new TRPCError({ code: 'UNAUTHORIZED', message: SESSION_EXPIRED });
}

/**
 * What a client sees when the server ends its live stream, the same on the
 * stock tRPC route and on the fast transport:
 * - `return`: tRPC's `return` event, a normal end; `httpSubscriptionLink`
 *   completes and does not reconnect.
 * - `reconnect`: the response ends with neither `return` nor an error event
 *   (after `retry: <ms>` when a `reconnect` hint preceded), so the client's
 *   EventSource reconnects and resumes from its cursor.
 * - `error`: a `serialized-error` event carrying `error` (shaped by the
 *   router's `errorFormatter`); the link reports it and stops.
 */
export type StreamEnd =
  | { readonly kind: 'return' }
  | { readonly kind: 'reconnect' }
  | { readonly kind: 'error'; readonly error: TRPCError };

const RETURN: StreamEnd = { kind: 'return' };
const RECONNECT: StreamEnd = { kind: 'reconnect' };

// One entry per reason (a Record, so a new CloseReason does not compile until it has an outcome here).
const POLICY: Record<CloseReason, () => StreamEnd> = {
  // The hub closed (shutdown without a drain) or the client left: nothing to resume.
  closed: () => RETURN,
  // Drain and rotation send a jittered `reconnect` hint first; the client resumes elsewhere or here.
  drain: () => RECONNECT,
  rotate: () => RECONNECT,
  // A server-side failure of this stream: the client resumes from its cursor and loses nothing.
  error: () => RECONNECT,
  // Credential expired or session signed out: reconnecting with it would be refused; sign in again.
  unauthorized: () => ({ kind: 'error', error: sessionExpiredError() }),
};

/**
 * The close policy of live streams: how a stream the hub closed with
 * `reason` ends for its client (see {@link StreamEnd}). Both transports
 * (`LiveStream` behind the stock route, `SocketSink` of the fast
 * transport) end streams through it:
 *
 * | reason | client outcome |
 * |---|---|
 * | `closed` | `return` (completes) |
 * | `drain`, `rotate`, `error` | `reconnect` (resumes from its cursor, after the hint's `retry:`) |
 * | `unauthorized` | `error`: UNAUTHORIZED, {@link SESSION_EXPIRED} |
 */
export function streamEnd(reason: CloseReason): StreamEnd {
  return POLICY[reason]();
}
