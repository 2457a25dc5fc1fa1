import type { RedisOptions } from 'ioredis';
import { LiveError, type LiveBackend, type ReplayLogOptions } from '../core/index.ts';
import { consoleLogger, type LiveLogger } from '../shared/logger.ts';

/**
 * Where the backend stands. `shared`: every instance sequences, stores and
 * fans out through Redis. `local`: Redis is unreachable (or not reached
 * yet, `connecting`): signals are sequenced under a local epoch and
 * delivered to this process's clients only, and forwarded to Redis when it
 * returns. `closed` after {@link LiveBackend.close}.
 */
export type RedisBackendMode = 'connecting' | 'shared' | 'local' | 'closed';

/** A snapshot for logs, health and metrics (see {@link RedisBackendOptions.onStateChange}). */
export interface RedisBackendState {
  /** Where the backend stands now (see {@link RedisBackendMode}). */
  readonly mode: RedisBackendMode;
  /** The epoch cursors are issued in right now (shared or local). */
  readonly epoch: string;
  /** When the current mode began (ms since the epoch). */
  readonly since: number;
  /** Last connection or command error, while not shared. */
  readonly error: string | null;
  /** Times the backend fell back from shared to local. */
  readonly outages: number;
  /** Publishes delivered locally only, since the backend was created. */
  readonly localPublishes: number;
  /** Gaps signalled to the hub (each resets every connection). */
  readonly gaps: number;
  /** Local publishes waiting to be forwarded to Redis. */
  readonly forwardPending: number;
  /** Publishes sent to Redis and not answered yet (past their deadline, or within it). */
  readonly inFlight: number;
  /** Copies of an already delivered signal that were dropped (see `SeenSerials`). */
  readonly duplicatesDropped: number;
}

/** Options of {@link createRedisBackend}. */
export interface RedisBackendOptions {
  /** `redis://[:password@]host:port[/db]` (or `rediss://`). @default 'redis://127.0.0.1:6379' */
  url?: string;
  /** ioredis options merged over ours (TLS, Sentinel, credentials…). @default {} */
  redisOptions?: RedisOptions;
  /** Prefix of every key and of the channel. Instances sharing history use the same one. @default 'live' */
  prefix?: string;
  /**
   * Subscribe to the channel and deliver what any instance publishes (web
   * servers). `false` is publish-only (workers, scripts): one connection,
   * and this process's own publishes are delivered to its hub directly.
   * @default true
   */
  subscribe?: boolean;
  /** Entries kept in each scope's stream for replay; older cursors get `evicted`. @default 10_000 */
  maxLenPerScope?: number;
  /**
   * Trim a stream back to `maxLenPerScope` on every publish (exact, for
   * tests) instead of once it exceeds it by 10% (amortized, like `MAXLEN ~`).
   * @default false
   */
  exactTrim?: boolean;
  /**
   * Longest a publish's promise waits for Redis, in ms, so no mutation
   * waits on Redis. Past it the publish resolves with the position its local
   * copy gets if Redis is then declared unreachable (see
   * `unreachableAfterMs`); the command stays in flight, and if Redis answers
   * after all the signal lands in the shared history instead (a fence built
   * from that receipt then only invalidates its keys once more). Waits are
   * judged after the event loop read what arrived: a busy process does not
   * time out an answer that was already there. @default 80
   */
  publishTimeoutMs?: number;
  /**
   * Interval of the health PING while shared, in ms: 10 a second per
   * instance, nothing for Redis, and it leaves 500 ms of the 1 s health
   * budget for a loaded machine's timer slip (measured: degraded 560-600 ms
   * after a freeze with 200 ms). @default 100
   */
  pingIntervalMs?: number;
  /**
   * Redis silent this long (no answer to anything) while a PING or publish
   * waits marks it unreachable: silence, not one command's wait, so a publish
   * queued behind a burst does not count. Health turns `degraded`,
   * publishes waiting for Redis are delivered to this
   * instance's clients under a local epoch (the commands stay in flight;
   * a copy Redis runs later is recognised by its identity and dropped), and
   * new ones are delivered locally until Redis is back. With the interval,
   * a Redis that stops answering is noticed within
   * `pingIntervalMs + unreachableAfterMs` (500 ms by default: health must turn
   * `degraded` within 1 s) even when nothing is published. Not shorter: every
   * fallback resets this instance's clients when Redis is back, and a loaded
   * 2-core machine was measured answering after 80-300 ms. @default 400
   */
  unreachableAfterMs?: number;
  /**
   * A replay read not answered within this gets a reset (the client
   * resumes, it does not wait), and the subscriber's commands fail. Publishes
   * are bounded by `unreachableAfterMs` (silence) instead: a publish queued
   * behind a burst of thousands waits longer while Redis keeps answering.
   * @default 2000
   */
  commandTimeoutMs?: number;
  /** First reconnect delay; doubles per attempt (±20% jitter). @default 100 */
  retryBaseMs?: number;
  /** Longest reconnect delay. @default 5000 */
  retryMaxMs?: number;
  /** Bounds of the local replay log used while Redis is unreachable. @default memory log defaults */
  localReplay?: ReplayLogOptions;
  /**
   * Distinct keys published locally during an outage that are forwarded to
   * Redis when it returns (so other instances' clients get them). Past this,
   * the oldest are dropped and every instance resets its clients instead.
   * @default 10_000
   */
  maxForward?: number;
  /** Called on every change of mode (logs, metrics, health). Must not throw. @default none */
  onStateChange?: (state: RedisBackendState) => void;
  /** Where fault and recovery lines go (joins at `info`, faults at `warn`); `null` for silence. @default consoleLogger */
  logger?: LiveLogger | null;
  /** Clock. @default Date.now */
  now?: () => number;
}

/** The Redis backend: a {@link LiveBackend} plus readiness and state. */
export interface RedisBackend extends LiveBackend {
  /**
   * Resolves `true` once the shared history is joined, or `false` after
   * `timeoutMs` (the backend keeps retrying and serves locally meanwhile).
   * @default timeoutMs 5000
   */
  ready(timeoutMs?: number): Promise<boolean>;
  /** Current state (mode, epoch, fault, counters). */
  state(): RedisBackendState;
  /**
   * Resolves `true` once every publish so far is in the shared history
   * (nothing in flight, nothing waiting to be forwarded, shared mode), or
   * `false` after `timeoutMs`. For processes that publish and exit (workers,
   * scripts): a signal delivered only locally has no client to reach there.
   * @default timeoutMs 5000
   */
  settled(timeoutMs?: number): Promise<boolean>;
}

/** The options with their defaults applied and checked: what the backend's parts are built from. */
export interface RedisBackendSettings {
  readonly url: string;
  readonly redisOptions: RedisOptions;
  readonly prefix: string;
  readonly subscribe: boolean;
  readonly maxLen: number;
  /** Entries a stream may exceed `maxLen` by before it is trimmed (0: exact). */
  readonly slack: number;
  readonly maxForward: number;
  readonly publishTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly unreachableAfterMs: number;
  readonly commandTimeoutMs: number;
  readonly localReplay: ReplayLogOptions | undefined;
  readonly onStateChange: ((state: RedisBackendState) => void) | undefined;
  readonly logger: LiveLogger | null;
  readonly now: () => number;
  /** Reconnect (and join retry) delay of the `attempt`th try: doubles from `retryBaseMs` up to `retryMaxMs`, ±20% jitter. */
  readonly backoff: (attempt: number) => number;
}

/** Applies the defaults documented on {@link RedisBackendOptions}; bad values throw `BAD_OPTIONS`. */
export function resolveOptions(options: RedisBackendOptions): RedisBackendSettings {
  const maxLen = options.maxLenPerScope ?? 10_000;
  if (!(Number.isInteger(maxLen) && maxLen > 0)) throw new LiveError('BAD_OPTIONS', 'maxLenPerScope must be a positive integer');
  const publishTimeoutMs = options.publishTimeoutMs ?? 80;
  const pingIntervalMs = options.pingIntervalMs ?? 100;
  const unreachableAfterMs = options.unreachableAfterMs ?? 400;
  for (const [name, value] of Object.entries({ publishTimeoutMs, pingIntervalMs, unreachableAfterMs })) {
    if (!(value > 0)) throw new LiveError('BAD_OPTIONS', `${name} must be a positive number`);
  }
  const retryBaseMs = options.retryBaseMs ?? 100;
  const retryMaxMs = options.retryMaxMs ?? 5000;
  return {
    url: options.url ?? 'redis://127.0.0.1:6379',
    redisOptions: options.redisOptions ?? {},
    prefix: options.prefix ?? 'live',
    subscribe: options.subscribe !== false,
    maxLen,
    slack: options.exactTrim ? 0 : Math.max(1, Math.floor(maxLen / 10)),
    maxForward: options.maxForward ?? 10_000,
    publishTimeoutMs,
    pingIntervalMs,
    unreachableAfterMs,
    commandTimeoutMs: options.commandTimeoutMs ?? 2000,
    localReplay: options.localReplay,
    onStateChange: options.onStateChange,
    logger: options.logger === undefined ? consoleLogger : options.logger,
    now: options.now ?? Date.now,
    backoff: (attempt) =>
      Math.round(Math.min(retryBaseMs * 2 ** Math.min(attempt - 1, 20), retryMaxMs) * (0.8 + Math.random() * 0.4)),
  };
}
