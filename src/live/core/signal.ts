/** JSON-compatible values that may travel inside a signal. */
export type LiveJson = string | number | boolean | null | LiveJson[] | { [key: string]: LiveJson };

/** A small JSON object carried with a signal (a hint, or a progress extra). */
export type LiveHint = { [key: string]: LiveJson };

/** What happened to an invalidated resource. */
export type LiveAction = 'created' | 'updated' | 'deleted' | 'changed';

/** Priority lanes of a connection's outbox. See `connection.ts` for ordering. */
export type Lane = 'instant' | 'batched' | 'coalesced';

/** "Data for this key changed: refetch it." Never carries the data itself. */
export interface InvalidateSignal {
  readonly kind: 'invalidate';
  readonly resource: string;
  readonly id?: string;
  readonly action: LiveAction;
  readonly hint?: LiveHint;
}

/** Progress of a long-running job (e.g. an import); last writer wins per key. */
export interface ProgressSignal {
  readonly kind: 'progress';
  readonly key: string;
  readonly current: number;
  readonly total: number;
  readonly extra?: LiveHint;
}

/** A job finished. */
export interface CompleteSignal {
  readonly kind: 'complete';
  readonly key: string;
  readonly ok: boolean;
  readonly extra?: LiveHint;
}

/** A free-form event on a topic (notifications, domain events). */
export interface EventSignal {
  readonly kind: 'event';
  readonly topic: string;
  readonly data?: LiveJson;
}

/** One of the signals a batch may hold. */
export type DomainSignal = InvalidateSignal | ProgressSignal | CompleteSignal | EventSignal;

/** Several domain events delivered as one frame (e.g. order + stock + dashboard). */
export interface BatchSignal {
  readonly kind: 'batch';
  readonly events: readonly DomainSignal[];
}

/** Why a connection was told to drop every cached query. */
export type ResetReason = 'unknown-cursor' | 'evicted' | 'epoch' | 'overflow' | 'gap';

/** "You may have missed something: refetch everything that is active." */
export interface ResetSignal {
  readonly kind: 'reset';
  readonly reason: ResetReason;
}

/** Every signal a hub can publish. */
export type LiveSignal = DomainSignal | BatchSignal;

/** A data message on the wire: a signal plus the sequence it was published at. */
export type LiveDataMessage = (LiveSignal | ResetSignal) & { readonly seq: number };

/**
 * Control messages are never replayable: their frames carry no cursor.
 * `hello` opens every stream; `reconnect` asks the client to come back after
 * `afterMs` (drain, rotation).
 */
export type LiveControlMessage =
  | { readonly kind: 'hello'; readonly connectionId: string; readonly epoch: string }
  | { readonly kind: 'reconnect'; readonly afterMs: number; readonly reason: 'drain' | 'rotate' };

/** What the live subscription yields. */
export type LiveMessage = LiveDataMessage | LiveControlMessage;

/**
 * The compaction key of a signal: replay keeps the latest entry per key, the
 * outbox deduplicates per key. Events have no natural key and get a unique one.
 */
export function keyOf(signal: LiveSignal | ResetSignal, seq: number): string {
  switch (signal.kind) {
    case 'invalidate':
      return signal.id === undefined ? `i|${signal.resource}` : `i|${signal.resource}|${signal.id}`;
    case 'progress':
      return `p|${signal.key}`;
    case 'complete':
      return `c|${signal.key}`;
    default:
      return `#${seq}`;
  }
}

/**
 * True when only the latest signal per key matters (invalidations, progress,
 * completion): such signals may be collapsed under backpressure and
 * compacted in replay without losing anything.
 */
export function isIdempotent(signal: LiveSignal | ResetSignal): boolean {
  return signal.kind === 'invalidate' || signal.kind === 'progress' || signal.kind === 'complete';
}
