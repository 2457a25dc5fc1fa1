// Watches: which pushable queries a browser holds, so the server can push their results after a change.
// The protocol both ends share (the request and answer of the watch call, the key, the bounds).
// Imports nothing outside shared/.

/** One query a stream watches: a procedure path and its input as the client calls it. */
export interface WatchSpec {
  /** Dot path of a query procedure the registry marks `push`, e.g. `'orders.byId'`. */
  readonly path: string;
  /** The input as the client passes it (before the procedure's parsers); absent when it takes none. */
  readonly input?: unknown;
}

/**
 * A change to a stream's watch set: sent by the browser (all its tabs, batched)
 * with the watch call (the app's `live.watch` mutation).
 */
export interface WatchRequest {
  /** The stream's connection id (from its `hello`); it must belong to the caller. */
  readonly connectionId: string;
  /**
   * Who holds these watches (a tab id): a watch stays while any holder
   * holds it, so one tab unmounting a page does not drop another tab's watch.
   * @default 'default'
   */
  readonly holder?: string;
  /** Queries to watch. @default [] */
  readonly add?: readonly WatchSpec[];
  /** Watches (`watchKey`s) this holder no longer holds. @default [] */
  readonly remove?: readonly string[];
  /**
   * This holder applies `delta` messages: results may come as a delta
   * against the previous one. A watch gets deltas only while every holder
   * of it said so. Adding a watch again (any holder) makes its next result
   * whole (the holder lacks the base a delta would name).
   * @default false
   */
  readonly deltas?: boolean;
}

/** Why a watch was refused; the client keeps invalidate-and-refetch for it. */
export type WatchRefusal =
  /** The path is not marked `push` in the registry. */
  | 'not-pushable'
  /** The watch set of the connection is at its bound (count or bytes). */
  | 'full'
  /** The caller's own call of the query failed (input, authorization, not found): it could not fetch it. */
  | 'refused';

/** The answer to a {@link WatchRequest}. */
export interface WatchResponse {
  /**
   * The hub's position when the watches were registered (`epoch:seq`):
   * results are pushed for changes after it; the client treats older
   * invalidations of these queries as plain ones (refetch).
   */
  readonly cursor: string;
  /** Keys of the accepted watches, in request order. */
  readonly accepted: readonly string[];
  /** Watches refused, with why (`code`) and a message safe to show. */
  readonly refused: readonly { readonly watch: string; readonly code: WatchRefusal; readonly message: string }[];
}

/** Default most watches one connection holds (all its tabs). */
export const DEFAULT_MAX_WATCHES = 256;
/** Default most bytes of watch keys one connection holds (all its tabs). */
export const DEFAULT_MAX_WATCH_BYTES = 64 * 1024;
/** Default largest pushed result (serialized); a larger one is sent as a refetch. */
export const DEFAULT_MAX_RESULT_BYTES = 256 * 1024;

/**
 * The key of a watch: the path and the input in a canonical JSON form
 * (object keys sorted, `undefined` members dropped, as JSON drops them), so
 * the browser and the server name the same query the same way whatever the
 * key order of the input. Past `maxLength` characters it stops and throws
 * {@link WatchKeyTooLongError}. @default maxLength Infinity
 */
export function watchKey(path: string, input: unknown, maxLength = Infinity): string {
  if (input === undefined) return path;
  const budget = { left: maxLength - path.length - 1 };
  return `${path}:${canonicalJson(input, budget)}`;
}

/** Thrown by {@link watchKey} when the key would be longer than its `maxLength`, before the input is walked further. */
export class WatchKeyTooLongError extends Error {
  constructor() {
    super('The watch key is longer than allowed');
    this.name = 'WatchKeyTooLongError';
  }
}

/**
 * Every value walked writes at least one character, so a budget of
 * characters also bounds the walk. Without it, an input sent with superjson's
 * referential equalities (one object referenced twice at every level, 2 KB on
 * the wire) was walked as the tree it stands for: 2^20 nodes, 1.3 s of the
 * server's event loop before its length was checked (black-box probe).
 */
function canonicalJson(value: unknown, budget: { left: number }): string {
  if (--budget.left < 0) throw new WatchKeyTooLongError();
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value) ?? 'null';
    budget.left -= text.length - 1;
    if (budget.left < 0) throw new WatchKeyTooLongError();
    return text;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalJson((value as { toJSON(): unknown }).toJSON(), budget);
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item, budget))).join(',')}]`;
  const entries = Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => {
      const name = JSON.stringify(key);
      budget.left -= name.length;
      return `${name}:${canonicalJson((value as Record<string, unknown>)[key], budget)}`;
    });
  return `{${entries.join(',')}}`;
}
