import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { isLiveError, type LiveErrorCode } from '../shared/errors.ts';

// One entry per code (a Record, so a new LiveErrorCode does not compile until it has a tRPC code here).
const CODES: Record<LiveErrorCode, TRPC_ERROR_CODE_KEY> = {
  BAD_TOPIC: 'BAD_REQUEST',
  BAD_CURSOR: 'BAD_REQUEST',
  BAD_SIGNAL: 'BAD_REQUEST',
  BAD_OPTIONS: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  // Retryable: the client reconnects (to another instance) instead of giving up.
  DRAINING: 'SERVICE_UNAVAILABLE',
  // The server's own failures: the client sees a generic error, the log sees `cause`.
  CLOSED: 'INTERNAL_SERVER_ERROR',
  BACKEND: 'INTERNAL_SERVER_ERROR',
};

/**
 * The library's error mapping: the tRPC error for anything a trpc-live call
 * threw. A `LiveError` keeps its message (safe to show) and maps by code:
 * `BAD_*` → BAD_REQUEST, `UNAUTHORIZED`, `FORBIDDEN` and `NOT_FOUND` as they
 * are, `DRAINING` → SERVICE_UNAVAILABLE (retryable), `CLOSED` and `BACKEND`
 * → INTERNAL_SERVER_ERROR. A `TRPCError` is returned as it is; anything else
 * becomes INTERNAL_SERVER_ERROR (its message is not shown). Use it in a
 * procedure that calls the hub: `catch (error) { throw toTRPCError(error) }`.
 */
export function toTRPCError(cause: unknown): TRPCError {
  if (cause instanceof TRPCError) return cause;
  if (isLiveError(cause)) {
    return new TRPCError({ code: CODES[cause.code] ?? 'INTERNAL_SERVER_ERROR', message: cause.message, cause });
  }
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause });
}
