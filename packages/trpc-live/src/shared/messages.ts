// The stream's messages and signals, and the outbox lanes: what the browser and the server both read.
// Types and one constant; this file imports only the delta patch type.
import type { DeltaPatch } from './delta.ts';

/** JSON-compatible values that may travel inside a signal. */
export type LiveJson = string | number | boolean | null | LiveJson[] | { [key: string]: LiveJson };

/** A small JSON object carried with a signal (a hint, or a progress extra). */
export type LiveHint = { [key: string]: LiveJson };

/** What happened to an invalidated resource. */
export type LiveAction = 'created' | 'updated' | 'deleted' | 'changed';

/** Priority lanes of a connection's outbox, most urgent first (see core/connection.ts for ordering). */
export const LANES = ['instant', 'batched', 'coalesced'] as const;

/** One of {@link LANES}. */
export type Lane = (typeof LANES)[number];

/** "Data for this key changed: refetch it." Never carries the data itself. */
export interface InvalidateSignal {
  /** Discriminant: an invalidation. */
  readonly kind: 'invalidate';
  /** The resource that changed, a name from the registry (e.g. `orders`). */
  readonly resource: string;
  /** The changed instance; absent means every instance of the resource (its lists too). */
  readonly id?: string;
  /** What happened to it; the client refetches the same way for every action. */
  readonly action: LiveAction;
  /** Optional small JSON for the client's listeners (never the data itself); absent by default. */
  readonly hint?: LiveHint;
}

/** Progress of a long-running job (e.g. an import); last writer wins per key. */
export interface ProgressSignal {
  /** Discriminant: progress of a job. */
  readonly kind: 'progress';
  /** The job's key; the latest progress per key replaces earlier ones. */
  readonly key: string;
  /** Units done so far. */
  readonly current: number;
  /** Units in all; `current === total` is the final value, always delivered. */
  readonly total: number;
  /** Optional small JSON shown with the progress; absent by default. */
  readonly extra?: LiveHint;
}

/** A job finished. */
export interface CompleteSignal {
  /** Discriminant: a job finished. */
  readonly kind: 'complete';
  /** The finished job's key (the same key its progress used). */
  readonly key: string;
  /** True when the job succeeded, false when it failed. */
  readonly ok: boolean;
  /** Optional small JSON about the outcome (counts, an error code); absent by default. */
  readonly extra?: LiveHint;
}

/** A free-form event on a topic (notifications, domain events). */
export interface EventSignal {
  /** Discriminant: a free-form event. */
  readonly kind: 'event';
  /** The event's topic (dot-separated tokens), which subscribers match with patterns. */
  readonly topic: string;
  /** The event's JSON payload; absent by default. */
  readonly data?: LiveJson;
}

/** One of the signals a batch may hold. */
export type DomainSignal = InvalidateSignal | ProgressSignal | CompleteSignal | EventSignal;

/** Several domain events delivered as one frame (e.g. order + stock + dashboard). */
export interface BatchSignal {
  /** Discriminant: several signals in one frame. */
  readonly kind: 'batch';
  /** The signals, applied in this order (at most `MAX_BATCH_EVENTS`). */
  readonly events: readonly DomainSignal[];
}

/** Why a connection was told to drop every cached query. */
export type ResetReason = 'unknown-cursor' | 'evicted' | 'epoch' | 'overflow' | 'gap';

/** "You may have missed something: refetch everything that is active." */
export interface ResetSignal {
  /** Discriminant: refetch every active query. */
  readonly kind: 'reset';
  /** Why the hub could not tell the connection exactly what it missed. */
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

/**
 * A watched query's result, pushed after a change (see `watches.ts`): the
 * server ran the query once for its scope (or once for this connection)
 * after the change at `epoch:seq` committed. Never replayable (no cursor of
 * its own); a resumed stream gets invalidations for what it missed instead.
 */
export interface LiveResultMessage {
  /** Discriminant: a pushed result. */
  readonly kind: 'result';
  /** The watch it answers: `watchKey(path, input)`. */
  readonly watch: string;
  /** Epoch of the change the result reflects. */
  readonly epoch: string;
  /** Seq of the newest change the result reflects: apply only over data older than it. */
  readonly seq: number;
  /** What the query returned (the stream's serializer carries it, e.g. superjson). */
  readonly data: unknown;
}

/**
 * A watched query's result as a delta against the result of the same watch
 * at `base` (same epoch), which the server queued to this connection last.
 * Sent only to streams whose watch calls said `deltas: true` (an older
 * client ignores this kind and refetches when its hold runs out), and only
 * when it is clearly smaller than the whole result. The client applies it
 * only over exactly that base; otherwise it refetches.
 */
export interface LiveDeltaMessage {
  /** Discriminant: a pushed result as a delta. */
  readonly kind: 'delta';
  /** The watch it answers: `watchKey(path, input)`. */
  readonly watch: string;
  /** Epoch of the change the result reflects (and of its base). */
  readonly epoch: string;
  /** Seq of the newest change the result reflects. */
  readonly seq: number;
  /** Seq of the result it applies to. */
  readonly base: number;
  /** What changed (`null`: nothing); values travel through the stream's serializer (Dates intact with superjson). */
  readonly ops: DeltaPatch | null;
}

/** Why a watched query was not pushed after a change, and must be refetched instead. */
export type RefetchReason = 'error' | 'too-large' | 'paused' | 'slow';

/**
 * "Refetch this watched query": the fallback to today's signal when its
 * result could not be pushed for the change at `epoch:seq` (the
 * computation threw, the result was over the size bound, the connection
 * was paused or its outbox too full).
 */
export interface LiveRefetchMessage {
  /** Discriminant: refetch one watched query. */
  readonly kind: 'refetch';
  /** The watch: `watchKey(path, input)`. */
  readonly watch: string;
  /** Epoch of the change. */
  readonly epoch: string;
  /** Seq of the change that was not pushed. */
  readonly seq: number;
  /** Why. */
  readonly reason: RefetchReason;
}

/** Messages about watched queries: a pushed result (whole or a delta), or the order to refetch one. */
export type LivePushMessage = LiveResultMessage | LiveDeltaMessage | LiveRefetchMessage;

/** What the live subscription yields. */
export type LiveMessage = LiveDataMessage | LiveControlMessage | LivePushMessage;
