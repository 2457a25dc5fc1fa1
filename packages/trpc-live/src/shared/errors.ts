/**
 * Machine-readable codes for every error the live library throws.
 * `toTRPCError` (trpc-live/trpc) maps them to tRPC codes, for the transports
 * and for procedures that call the hub (`BAD_*` → BAD_REQUEST, `UNAUTHORIZED`,
 * `FORBIDDEN`, `NOT_FOUND`, `DRAINING` → SERVICE_UNAVAILABLE, the rest → INTERNAL_SERVER_ERROR).
 */
export type LiveErrorCode =
  | 'BAD_TOPIC'
  | 'BAD_CURSOR'
  | 'BAD_SIGNAL'
  | 'BAD_OPTIONS'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'DRAINING'
  | 'CLOSED'
  | 'BACKEND';

/**
 * The one error family of trpc-live. `message` is safe to show to a user (it
 * never contains internals); `cause` keeps the underlying error for logs.
 */
export class LiveError extends Error {
  /** Always `'LiveError'` (survives bundling, unlike the class name). */
  override readonly name = 'LiveError';
  /** What went wrong, for code to branch on; transports map it to a tRPC code. */
  readonly code: LiveErrorCode;

  constructor(code: LiveErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `value` is a {@link LiveError}, optionally with the given code. */
export function isLiveError(value: unknown, code?: LiveErrorCode): value is LiveError {
  return value instanceof LiveError && (code === undefined || value.code === code);
}
