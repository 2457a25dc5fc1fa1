import { Redis, type RedisOptions } from 'ioredis';
import {
  createMemoryReplayLog,
  LiveError,
  newEpoch,
  type BackendHealth,
  type BackendListener,
  type LiveBackend,
  type PublishedEntry,
  type PublishRequest,
  type ReplayLogOptions,
  type ReplayResult,
  type ResetReason,
} from '../core/index.ts';
import { decodeMessage, decodePayload, encodeRequest, GAP_MESSAGE, seqOfId, toEntry } from './entryCodec.ts';
import { HELLO_SCRIPT, PUBLISH_SCRIPT, SINCE_SCRIPT } from './scripts.ts';
import { after, PublishDeadlines, type Outgoing } from './publishDeadlines.ts';
import { SeenSerials } from './seenSerials.ts';

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
  /** Where fault and recovery lines go; `null` for silence. @default console */
  logger?: Pick<Console, 'info' | 'warn'> | null;
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

interface LiveCommands {
  livePublish(...args: (string | number)[]): Promise<[string, number]>;
  liveSince(...args: (string | number)[]): Promise<[string, Array<[string, string[]]>?]>;
  liveHello(...args: (string | number)[]): Promise<[string, number]>;
}

type LocalHistory = { epoch: string; log: ReturnType<typeof createMemoryReplayLog> };

/**
 * Separates the origin from a local epoch's number: `<origin>-<n>`. Shared
 * epochs and origins are `newEpoch()` strings, which never contain it.
 */
const LOCAL_EPOCH_MARK = '-';
const LOCAL_EPOCH_RE = /^([0-9a-z]{1,30})-[0-9]{1,8}$/;

/**
 * The origin whose local fallback history `epoch` is, or `undefined`. Its
 * seqs are that origin's serials (a local copy keeps its publish's serial as
 * its seq), so a cursor in it says which of the origin's signals the client
 * holds, wherever it reconnects.
 */
export function localEpochOrigin(epoch: string): string | undefined {
  return LOCAL_EPOCH_RE.exec(epoch)?.[1];
}

/** Longest a command on the publishing connection waits before it fails (see `commandTimeoutMs`). */
const COMMAND_BACKSTOP_MS = 10_000;

/** Longest `close()` waits for Redis to acknowledge QUIT before it closes the sockets. */
const QUIT_WAIT_MS = 50;

/** Seconds a process's highest serial is kept in Redis after its last publish (see PUBLISH_SCRIPT). */
const ORIGIN_TTL_S = 86_400;

/** Errors Redis answered (a script or type error): retrying or going local would not help. */
const isReplyError = (error: unknown) => error instanceof Error && error.name === 'ReplyError';
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Creates the Redis backend: one shared epoch and sequence, one stream per
 * scope for replay, one channel carrying every entry to every instance.
 * Only this module imports a Redis client.
 *
 * Faults: commands fail fast (no offline queue) and connections retry with
 * backoff. While Redis is unreachable, publishes are delivered to local
 * clients under a local epoch; when it returns, the backend forwards what
 * was published locally, rejoins the shared history, and signals a gap
 * (every connection gets `reset`) when its clients may have missed
 * something. No error escapes as an unhandled rejection.
 *
 * Exactly once through faults (issue 20): a publish can be sequenced more
 * than once here (its local copy when Redis missed the deadline, the same
 * command run by Redis once it thawed, a copy forwarded after Redis came
 * back, possibly into a new epoch), and each copy has a different
 * `epoch:seq`. So every publish gets an identity when it is made, `origin`
 * (this backend, random) plus `serial` (1, 2, …), which every copy carries:
 * Redis writes one entry per identity (PUBLISH_SCRIPT), and each backend
 * hands its hub only the first copy of each identity (`SeenSerials`),
 * whatever its epoch. A client connected to a hub therefore never gets a
 * signal twice, with no dedup code of its own.
 *
 * No publish waits on Redis for longer than `publishTimeoutMs`; one
 * unanswered for `unreachableAfterMs` is delivered locally and the backend
 * falls back; a PING every `pingIntervalMs` notices a Redis that stopped
 * answering when nothing is published.
 */
export function createRedisBackend(options: RedisBackendOptions = {}): RedisBackend {
  const now = options.now ?? Date.now;
  const prefix = options.prefix ?? 'live';
  const maxLen = options.maxLenPerScope ?? 10_000;
  if (!(Number.isInteger(maxLen) && maxLen > 0)) throw new LiveError('BAD_OPTIONS', 'maxLenPerScope must be a positive integer');
  const slack = options.exactTrim ? 0 : Math.max(1, Math.floor(maxLen / 10));
  const maxForward = options.maxForward ?? 10_000;
  const retryBaseMs = options.retryBaseMs ?? 100;
  const retryMaxMs = options.retryMaxMs ?? 5000;
  const publishTimeoutMs = options.publishTimeoutMs ?? 80;
  const pingIntervalMs = options.pingIntervalMs ?? 100;
  const unreachableAfterMs = options.unreachableAfterMs ?? 400;
  for (const [name, value] of Object.entries({ publishTimeoutMs, pingIntervalMs, unreachableAfterMs })) {
    if (!(value > 0)) throw new LiveError('BAD_OPTIONS', `${name} must be a positive number`);
  }
  const logger = options.logger === undefined ? console : options.logger;
  const origin = newEpoch(now());
  const keys = {
    epoch: `${prefix}:epoch`,
    seq: `${prefix}:seq`,
    floor: `${prefix}:floor`,
    origin: `${prefix}:o:${origin}`,
    /** Prefix of each origin's highest serial that may have a twin (see SINCE_SCRIPT). */
    twins: `${prefix}:t:`,
  };
  const streamKey = (scope: string) => `${prefix}:s:${scope}`;
  const channel = `${prefix}:signals`;

  const commandTimeoutMs = options.commandTimeoutMs ?? 2000;
  const backoff = (attempt: number) =>
    Math.round(Math.min(retryBaseMs * 2 ** Math.min(attempt - 1, 20), retryMaxMs) * (0.8 + Math.random() * 0.4));
  const connectionOptions: RedisOptions = {
    // Fail fast: a publish must never wait for Redis; it falls back to local delivery.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 2000,
    // Subscription state is ours: we resubscribe and signal the gap ourselves.
    autoResubscribe: false,
    retryStrategy: backoff,
    ...options.redisOptions,
  };
  const url = options.url ?? 'redis://127.0.0.1:6379';
  const cmd = new Redis(url, {
    ...connectionOptions,
    // Only a backstop for commands on this connection: a burst of 20,000 publishes from one process
    // kept the last one waiting 1-2 s on a loaded machine while Redis answered throughout, and a
    // 500 ms command timeout failed hundreds of them and made the instance fall back for nothing.
    // Silence is what `unreachableAfterMs` watches; replay reads get their own `commandTimeoutMs`.
    commandTimeout: Math.max(commandTimeoutMs, COMMAND_BACKSTOP_MS),
    connectionName: `${prefix}-live-cmd`,
  }) as Redis & LiveCommands;
  cmd.defineCommand('livePublish', { numberOfKeys: 5, lua: PUBLISH_SCRIPT });
  cmd.defineCommand('liveSince', { numberOfKeys: 4, lua: SINCE_SCRIPT });
  cmd.defineCommand('liveHello', { numberOfKeys: 2, lua: HELLO_SCRIPT });
  const sub =
    options.subscribe === false ? null : new Redis(url, { ...connectionOptions, connectionName: `${prefix}-live-sub` });

  let localHistories = 0;
  const freshLocal = (): LocalHistory => {
    // Named after the origin (see `localEpochOrigin`): any instance can tell whose serials its seqs are.
    const epoch = `${origin}${LOCAL_EPOCH_MARK}${++localHistories}`;
    return { epoch, log: createMemoryReplayLog(epoch, { ...options.localReplay, now }) };
  };

  let mode: RedisBackendMode = 'connecting';
  let modeSince = now();
  let lastError: string | null = null;
  let sharedEpoch: string | null = null;
  let local = freshLocal();
  let listener: BackendListener | null = null;
  let subscribed = false;
  /**
   * Channel messages may have been missed since the last time this backend
   * was shared (the subscription dropped, or it never had one): its clients
   * need a reset when it rejoins. A freeze keeps the subscription, and the
   * channel's seq check finds any hole, so a thaw needs none for this.
   */
  let subscriptionBroken = true;
  /** Signals were delivered locally (under a local epoch) since the last time this backend was shared. */
  let deliveredLocally = false;
  /** Highest serial delivered locally: its copies in Redis must never be replayed (see SINCE_SCRIPT). */
  let lastLocalSerial = 0;
  /** Highest serial Redis confirmed as possibly twinned. */
  let twinsMarked = 0;
  /** Next seq expected on the channel; `null` until the first message after (re)subscribing. */
  let expected: number | null = null;
  let joining = false;
  let probeTimer: ReturnType<typeof setTimeout> | null = null;
  let probeAttempt = 0;
  let outages = 0;
  let localPublishes = 0;
  let gaps = 0;
  let duplicatesDropped = 0;
  /** Serials of this backend's publishes (the second half of their identity). */
  let serials = 0;
  /** Which identities this backend's hub got already (every copy after the first is dropped). */
  const seen = new SeenSerials();
  /** Local publishes to forward, latest per (scope, key), by slot; forwarded in serial order. */
  const forward = new Map<string, { request: PublishRequest; serial: number }>();
  let forwardOverflow = false;
  let readyWaiters: Array<(joined: boolean) => void> = [];
  /** Replay reads not sent yet, by (scope, epoch, cursor seq): identical requests made before one is sent share it. */
  const replaysQueued = new Map<string, Promise<ReplayResult>>();
  let pingTimer: ReturnType<typeof setInterval> | null = null;
  let pingOutstanding = false;
  /** Publishes sent to Redis and not answered yet, and their deadlines. */
  const deadlines = new PublishDeadlines({
    publishTimeoutMs,
    unreachableAfterMs,
    // The PING timer ticks every pingIntervalMs; two missed ticks mean this process, not Redis, was busy.
    stallAfterMs: 2 * pingIntervalMs,
    now,
    watching: () => mode === 'shared',
    onOverdue: (outgoing) => answerLocally(outgoing),
    onSilent: (why) => degrade(why),
  });
  const inFlight = deadlines.inFlight;

  const state = (): RedisBackendState => ({
    mode,
    epoch: mode === 'shared' && sharedEpoch ? sharedEpoch : local.epoch,
    since: modeSince,
    error: mode === 'shared' ? null : lastError,
    outages,
    localPublishes,
    gaps,
    forwardPending: forward.size,
    inFlight: inFlight.size,
    duplicatesDropped,
  });
  const changed = () => {
    try {
      options.onStateChange?.(state());
    } catch {
      // A broken observer must not break delivery.
    }
  };
  const signalGap = (reason: ResetReason) => {
    gaps++;
    listener?.gap?.(reason);
  };

  /**
   * Hands an entry to the hub unless a copy of the same signal went first
   * (see `SeenSerials`). Entries without an identity (written by a version
   * without them) are their own identity.
   */
  const deliver = (entry: PublishedEntry) => {
    if (entry.origin !== undefined && entry.serial !== undefined) {
      const check = seen.check(entry.origin, entry.serial);
      if (check !== 'new') {
        duplicatesDropped++;
        // Too old to tell a first copy from a repeat: dropped, and the reset covers it if it was new.
        if (check === 'unknown') signalGap('gap');
        return;
      }
    }
    listener?.deliver(entry);
  };

  /** Redis became unreachable (or stopped answering): deliver locally until it is back. */
  const degrade = (why: string) => {
    lastError = why;
    if (mode === 'closed') return;
    if (mode === 'shared') {
      outages++;
      mode = 'local';
      modeSince = now();
      // `local` is the fresh history the last join made (publish receipts past their deadline name it).
      logger?.warn(
        `[live:redis] Redis unreachable (${why}): delivering to this instance's clients only, under local epoch ${local.epoch}; retrying`,
      );
      changed();
    } else if (mode === 'connecting') {
      mode = 'local';
      modeSince = now();
      logger?.warn(`[live:redis] cannot reach Redis at startup (${why}): delivering locally meanwhile; retrying`);
      changed();
    }
    // What is still waiting for Redis reaches this instance's clients now, not when a command times out.
    for (const outgoing of inFlight.values()) deliverLocalCopy(outgoing);
    scheduleProbe();
  };

  /** Retries joining while connections look ready but joining failed (e.g. a timeout). */
  const scheduleProbe = () => {
    if (probeTimer || mode === 'closed') return;
    probeTimer = setTimeout(() => {
      probeTimer = null;
      void join();
    }, backoff(++probeAttempt));
    probeTimer.unref?.();
  };

  /** A PING every `pingIntervalMs` while shared: a Redis that stops answering is noticed without a publish. */
  const ping = () => {
    deadlines.tick();
    if (mode !== 'shared' || pingOutstanding || cmd.status !== 'ready') return;
    pingOutstanding = true;
    const sentAt = now();
    let answered = false;
    let timer: ReturnType<typeof setTimeout>;
    // Silence, not latency: a PING queued behind a burst of publishes waits, but their answers flow.
    const check = () => {
      if (answered || mode !== 'shared') return;
      const silentFor = deadlines.silentFor(sentAt);
      // A stalled loop of our own may not have read Redis's answer yet: look again after a turn.
      if (silentFor >= unreachableAfterMs && deadlines.stalled()) timer = after(0, check);
      else if (silentFor >= unreachableAfterMs) degrade(`no answer from Redis for ${unreachableAfterMs} ms`);
      else timer = after(unreachableAfterMs - silentFor, check);
    };
    timer = after(unreachableAfterMs, check);
    const done = () => {
      answered = true;
      pingOutstanding = false;
      clearTimeout(timer);
    };
    cmd.ping().then(
      () => {
        deadlines.heard();
        done();
      },
      (error: unknown) => {
        done();
        // A command timeout shorter than the PING's: the same verdict.
        if (mode === 'shared') degrade(messageOf(error));
      },
    );
  };

  /** (Re)joins the shared history once both connections are ready. */
  const join = async (): Promise<void> => {
    if (mode === 'shared' || mode === 'closed' || joining) return;
    if (cmd.status !== 'ready' || (sub && sub.status !== 'ready')) return; // their 'ready' event calls us again
    joining = true;
    try {
      if (sub && !subscribed) {
        await sub.subscribe(channel);
        subscribed = true;
        expected = null;
      }
      const [epoch] = await cmd.liveHello(keys.epoch, keys.seq, newEpoch(now()));
      if ((mode as RedisBackendMode) === 'closed') return;
      // The subscription dropped while joining: its 'ready' event starts over.
      if (sub && !subscribed) return;
      // Commands sent before the hello on this connection were answered before it; any still
      // waiting were sent on a connection that has not failed them yet: wait for their outcome,
      // which decides whether they are forwarded (and keeps serials in order in Redis).
      if (inFlight.size) {
        scheduleProbe();
        return;
      }
      // Joining resets clients (below) whenever the epoch changed: no second reset for it.
      const epochChanged = sharedEpoch !== null && epoch !== sharedEpoch;
      if (epoch !== sharedEpoch) expected = null;
      sharedEpoch = epoch;
      // Still local: publishes made meanwhile join the queue, which is sent before any new publish.
      // Checked again right before switching (same synchronous step): a publish made while the
      // last forward was answered must not be left behind.
      do {
        if (!(await forwardLocal())) return;
        if ((mode as RedisBackendMode) === 'closed' || (sub && !subscribed)) return;
      } while (forward.size || lastLocalSerial > twinsMarked);
      const rejoined = mode === 'local';
      mode = 'shared';
      modeSince = now();
      lastError = null;
      probeAttempt = 0;
      local = freshLocal();
      logger?.[rejoined ? 'warn' : 'info'](
        `[live:redis] ${rejoined ? 'Redis is back' : 'connected'}: shared epoch ${epoch}${rejoined ? '; resetting clients' : ''}`,
      );
      changed();
      for (const resolve of readyWaiters.splice(0)) resolve(true);
      // Clients may have missed something: what other instances published while this one was not
      // subscribed, or a frame the local epoch's cursor cannot place in the shared history.
      const needsGap = subscriptionBroken || deliveredLocally || epochChanged;
      subscriptionBroken = false;
      deliveredLocally = false;
      if (needsGap) signalGap('gap');
    } catch (error) {
      if (mode !== 'shared') {
        lastError = messageOf(error);
        scheduleProbe();
      }
    } finally {
      joining = false;
    }
  };

  /**
   * Publishes what was delivered only locally during the outage, so every
   * instance gets it, in serial order (Redis skips any it already holds).
   * Returns false when Redis went away again (the rest stays queued).
   */
  const forwardLocal = async (): Promise<boolean> => {
    if (!(await ensureTwinsMarked())) return false;
    if (!forward.size && !forwardOverflow) return true;
    while (forward.size) {
      // Publishes made while forwarding were delivered locally too.
      if (!(await ensureTwinsMarked())) return false;
      const pending = [...forward.values()].sort((x, y) => x.serial - y.serial);
      forward.clear();
      const CHUNK = 256;
      for (let i = 0; i < pending.length; i += CHUNK) {
        const chunk = pending.slice(i, i + CHUNK);
        const results = await Promise.allSettled(chunk.map(({ request, serial }) => publishShared(request, serial)));
        // A request Redis refused (a reply error) would be refused again: it is dropped and logged.
        let unreachable: unknown = null;
        const failed = chunk.filter((_, j) => {
          const result = results[j]!;
          if (result.status === 'fulfilled') return false;
          if (!isReplyError(result.reason)) {
            unreachable = result.reason;
            return true;
          }
          logger?.warn(`[live:redis] dropped a forwarded signal Redis refused: ${messageOf(result.reason)}`);
          return false;
        });
        if (failed.length) {
          // Redis went away again: keep the rest for the next recovery.
          for (const { request, serial } of [...failed, ...pending.slice(i + CHUNK)]) remember(request, serial);
          degrade(messageOf(unreachable));
          return false;
        }
      }
    }
    if (forwardOverflow) {
      // Some were dropped from the queue: every instance's clients reset instead.
      forwardOverflow = false;
      await cmd.publish(channel, GAP_MESSAGE).catch((error: unknown) => degrade(messageOf(error)));
    }
    changed();
    return true;
  };

  /** Before any copy can be written: what was delivered locally is never replayed from Redis. */
  const ensureTwinsMarked = async (): Promise<boolean> => {
    while (lastLocalSerial > twinsMarked) {
      try {
        await markTwins();
      } catch (error) {
        degrade(messageOf(error));
        return false;
      }
    }
    return true;
  };

  const remember = (request: PublishRequest, serial: number) => {
    // Unique signals (events) each keep their own slot; idempotent ones the latest per key.
    const slot = `${request.scope}\u0000${request.key ?? `#${serial}`}`;
    forward.delete(slot);
    forward.set(slot, { request, serial });
    if (forward.size > maxForward) {
      forward.delete(forward.keys().next().value!);
      forwardOverflow = true;
    }
  };

  const adoptEpoch = (epoch: string) => {
    if (epoch === sharedEpoch) return;
    // Redis lost its data (or was flushed): a new history began.
    const first = sharedEpoch === null;
    sharedEpoch = epoch;
    expected = null;
    if (!first) {
      logger?.warn(`[live:redis] Redis started a new epoch ${epoch}: its history was lost; resetting clients`);
      changed();
      signalGap('epoch');
    }
  };

  /** Sequences a publish in Redis; `null` when Redis already holds this identity (a copy). */
  const publishShared = async (request: PublishRequest, serial: number): Promise<PublishedEntry | null> => {
    const identity = { origin, serial };
    const [epoch, seq] = await cmd.livePublish(
      keys.epoch,
      keys.seq,
      streamKey(request.scope),
      keys.floor,
      keys.origin,
      newEpoch(now()),
      channel,
      request.scope,
      encodeRequest(request, identity),
      maxLen,
      slack,
      request.key ?? '',
      serial,
      ORIGIN_TTL_S,
      origin,
    );
    adoptEpoch(epoch);
    if (seq === 0) return null;
    const entry = toEntry(request, epoch, seq, identity);
    // Publish-only: no subscription brings it back, so this hub gets it here.
    if (!sub) deliver(entry);
    return entry;
  };

  /** Delivers a publish to this instance's clients under the local epoch (its seq is its serial). */
  const publishLocal = (request: PublishRequest, serial: number): PublishedEntry => {
    const entry = toEntry(request, local.epoch, serial, { origin, serial });
    local.log.append(entry);
    localPublishes++;
    deliveredLocally = true;
    lastLocalSerial = Math.max(lastLocalSerial, serial);
    deliver(entry);
    return entry;
  };

  /**
   * Records in Redis that this origin's serials up to `lastLocalSerial` may
   * have a twin, so no replay serves them (see SINCE_SCRIPT). Sent when a
   * command in flight is delivered locally, so it is queued right behind the
   * command (Redis runs both when it answers again), and again before a
   * forward, awaited.
   */
  const markTwins = async () => {
    const upTo = lastLocalSerial;
    await cmd.set(`${keys.twins}${origin}`, upTo, 'EX', ORIGIN_TTL_S);
    twinsMarked = Math.max(twinsMarked, upTo);
  };
  /** One mark for every local copy made in this turn (a fallback delivers all waiting publishes at once). */
  let markQueued = false;
  const queueMark = () => {
    if (markQueued) return;
    markQueued = true;
    queueMicrotask(() => {
      markQueued = false;
      // Fails at once on a closed connection: the join marks them again before forwarding.
      markTwins().catch(() => undefined);
    });
  };

  /** The local copy of a publish still waiting for Redis; it answers the publish if Redis has not. */
  const deliverLocalCopy = (outgoing: Outgoing) => {
    if (outgoing.local) return;
    outgoing.local = publishLocal(outgoing.request, outgoing.serial);
    queueMark();
    outgoing.answer(outgoing.local);
  };

  /** Resolves a publish past its deadline with the position its local copy gets if Redis is declared unreachable. */
  const answerLocally = (outgoing: Outgoing) =>
    outgoing.answer(toEntry(outgoing.request, local.epoch, outgoing.serial, { origin, serial: outgoing.serial }));

  /**
   * Sends a publish to Redis with two deadlines. Answered within
   * `publishTimeoutMs`: the shared entry. Past it: the promise resolves with
   * the local position (the publisher goes on). Unanswered for
   * `unreachableAfterMs`: the backend falls back (every waiting publish is
   * delivered locally) and the command stays in flight; Redis running it
   * later is harmless (its copy is dropped here), and a failure queues it for
   * forwarding (Redis skips it if it ran it after all).
   */
  const publishWithDeadline = (request: PublishRequest, serial: number): Promise<PublishedEntry> =>
    new Promise<PublishedEntry>((resolve, reject) => {
      const outgoing: Outgoing = {
        request,
        serial,
        sentAt: now(),
        local: null,
        answered: false,
        overdue: false,
        answer(entry) {
          if (outgoing.answered) return;
          outgoing.answered = true;
          resolve(entry);
        },
        fail(error) {
          if (outgoing.answered) return;
          outgoing.answered = true;
          reject(error);
        },
      };
      // An earlier publish is overdue already: Redis is slow or gone, and a mutation that publishes
      // several signals must not wait a deadline for each. It still goes to Redis.
      if (deadlines.anyOverdue) answerLocally(outgoing);
      deadlines.add(outgoing);
      publishShared(request, serial).then(
        (entry) => {
          deadlines.heard();
          deadlines.remove(outgoing);
          // `null` (Redis holds it already) is not expected for a first send: treat it as local.
          if (entry) outgoing.answer(entry);
          else deliverLocalCopy(outgoing);
        },
        (error: unknown) => {
          deadlines.settle(outgoing);
          if (mode === 'closed') {
            deadlines.remove(outgoing);
            outgoing.fail(new LiveError('CLOSED', 'The live backend is closed'));
            return;
          }
          if (isReplyError(error)) {
            deadlines.heard();
            deadlines.remove(outgoing);
            if (outgoing.answered) {
              // The publisher went on (past its deadline): nothing else will tell the clients, so every
              // instance resets them (a refused write, e.g. Redis out of memory, still lets PUBLISH through).
              logger?.warn(`[live:redis] Redis refused a signal after its publish returned: ${messageOf(error)}; resetting clients`);
              cmd.publish(channel, GAP_MESSAGE).catch(() => signalGap('gap'));
            }
            outgoing.fail(new LiveError('BACKEND', 'Publishing the signal failed', { cause: error }));
            return;
          }
          // Unknown fate (Redis may have run it): forward it later; Redis skips it if it did. Still
          // listed while the backend falls back, so local copies keep serial order.
          remember(request, serial);
          degrade(messageOf(error));
          deliverLocalCopy(outgoing);
          deadlines.remove(outgoing);
        },
      );
    });

  const onMessage = (from: string, message: string) => {
    if (from !== channel) return;
    if (message === GAP_MESSAGE) {
      signalGap('gap');
      return;
    }
    const entry = decodeMessage(message);
    if (!entry) {
      logger?.warn(`[live:redis] ignored a malformed message on ${channel}`);
      signalGap('gap');
      return;
    }
    // One channel carries every scope: any hole in the sequence is a lost signal, in any mode
    // (a freeze keeps the subscription, so a thawed backend relies on this check).
    if (entry.epoch !== sharedEpoch) adoptEpoch(entry.epoch);
    else if (expected !== null && entry.seq !== expected) signalGap('gap');
    expected = entry.seq + 1;
    deliver(entry);
  };

  const onClose = (which: string) => () => {
    if (which === 'subscriber') {
      subscribed = false;
      subscriptionBroken = true;
    }
    if (mode !== 'closed') degrade(lastError ?? `${which} connection closed`);
  };
  const onError = (error: Error) => {
    // ioredis reconnects by itself; the mode change is logged once, not every retry.
    lastError = error.message;
  };
  cmd.on('error', onError);
  cmd.on('close', onClose('command'));
  cmd.on('ready', () => void join());
  if (sub) {
    sub.on('error', onError);
    sub.on('close', onClose('subscriber'));
    sub.on('ready', () => void join());
    sub.on('message', onMessage);
  }
  pingTimer = setInterval(ping, pingIntervalMs);
  pingTimer.unref?.();

  const decodeReplay = (newestFirst: Array<[string, string[]]>, epoch: string): PublishedEntry[] => {
    // The script compacted already; re-inserting per key keeps that true
    // whatever the stream holds, and yields oldest first.
    const latest = new Map<string, PublishedEntry>();
    for (let i = newestFirst.length - 1; i >= 0; i--) {
      const [id, fields] = newestFirst[i]!;
      let payload: string | undefined;
      for (let j = 0; j + 1 < fields.length; j += 2) if (fields[j] === 'd') payload = fields[j + 1];
      const entry = payload === undefined ? null : decodePayload(payload, epoch, seqOfId(id));
      if (!entry) continue;
      latest.delete(entry.key);
      latest.set(entry.key, entry);
    }
    return [...latest.values()];
  };

  const isSettled = () => mode === 'shared' && inFlight.size === 0 && forward.size === 0;

  return {
    name: 'redis',
    epoch: () => (mode === 'shared' && sharedEpoch ? sharedEpoch : local.epoch),
    attach(l) {
      listener = l;
    },
    publish(request) {
      if (mode === 'closed') return Promise.reject(new LiveError('CLOSED', 'The live backend is closed'));
      const serial = ++serials;
      if (mode === 'shared') return publishWithDeadline(request, serial);
      remember(request, serial);
      return publishLocal(request, serial);
    },
    since(scope, epoch, afterSeq): ReplayResult | Promise<ReplayResult> {
      const heldOrigin = localEpochOrigin(epoch);
      // A cursor of a local fallback (here or on another instance) cannot be served: a reset, and
      // the hub keeps the copies of what the client got there from reaching it again.
      const held = heldOrigin === undefined ? {} : { heldOrigin };
      if (mode !== 'shared') {
        if (epoch === local.epoch) return local.log.since(scope, epoch, afterSeq);
        // The cursor is from the shared history (or another local one), which cannot be read now.
        return { ok: false, reason: 'gap', ...held };
      }
      if (heldOrigin !== undefined) return { ok: false, reason: 'epoch', ...held };
      // A reconnect storm (a deploy, a network blip) brings many clients of one tenant back with the
      // same cursor: identical requests share one Redis call and one decoded (and later encoded) set
      // of entries, instead of queueing thousands of stream reads in Redis. Only requests made before
      // the read is sent may share it: its snapshot must be taken after every sharer registered (and
      // started holding live entries), or an entry delivered between the snapshot and a late
      // sharer's registration reaches that client neither way (a lost signal, found by the soak's
      // deploy storm). So a read waits for the end of this event-loop turn, gathering the turn's requests.
      const flightKey = `${scope}\u0000${epoch}\u0000${afterSeq}`;
      const queued = replaysQueued.get(flightKey);
      if (queued) return queued;
      const read = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => {
          replaysQueued.delete(flightKey);
          return new Promise<Awaited<ReturnType<LiveCommands['liveSince']>> | 'timeout'>((resolve, reject) => {
            // Slow is not down (the silence watch decides that): a late read only resets its clients.
            const timer = setTimeout(() => resolve('timeout'), commandTimeoutMs);
            cmd.liveSince(keys.epoch, keys.seq, streamKey(scope), keys.floor, epoch, afterSeq, scope, keys.twins).then(
              (reply) => {
                clearTimeout(timer);
                resolve(reply);
              },
              (error: unknown) => {
                clearTimeout(timer);
                reject(error);
              },
            );
          });
        })
        .then(
          (reply): ReplayResult => {
            if (reply === 'timeout') return { ok: false, reason: 'gap' };
            const [status, raw] = reply;
            return status === 'ok' ? { ok: true, entries: decodeReplay(raw ?? [], epoch) } : { ok: false, reason: status as ResetReason };
          },
          (error: unknown): ReplayResult => {
            if (!isReplyError(error)) degrade(messageOf(error));
            return { ok: false, reason: 'gap' };
          },
        );
      replaysQueued.set(flightKey, read);
      return read;
    },
    health(): BackendHealth {
      if (mode === 'shared') return { ok: true, detail: `redis: shared epoch ${sharedEpoch}` };
      if (mode === 'closed') return { ok: false, detail: 'redis: closed' };
      if (mode === 'connecting') return { ok: false, detail: 'redis: connecting; delivering to local clients until joined' };
      const at = new Date(modeSince).toISOString();
      return {
        ok: false,
        detail: `redis: unreachable since ${at}${lastError ? ` (${lastError})` : ''}; delivering to local clients only, retrying`,
      };
    },
    ready(timeoutMs = 5000) {
      if (mode === 'shared') return Promise.resolve(true);
      if (mode === 'closed') return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          readyWaiters = readyWaiters.filter((w) => w !== done);
          resolve(false);
        }, timeoutMs);
        const done = (joined: boolean) => {
          clearTimeout(timer);
          resolve(joined);
        };
        readyWaiters.push(done);
      });
    },
    state,
    async settled(timeoutMs = 5000) {
      const deadline = now() + timeoutMs;
      // A script's last step, not a hot path: polling keeps the bookkeeping free of waiter lists.
      while (!isSettled()) {
        if (mode === 'closed' || now() >= deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return true;
    },
    async close() {
      if (mode === 'closed') return;
      mode = 'closed';
      modeSince = now();
      listener = null;
      if (probeTimer) clearTimeout(probeTimer);
      probeTimer = null;
      if (pingTimer) clearInterval(pingTimer);
      pingTimer = null;
      deadlines.stop();
      for (const resolve of readyWaiters.splice(0)) resolve(false);
      changed();
      await Promise.all(
        [cmd, sub].map(async (connection) => {
          if (!connection) return;
          // QUIT waits behind whatever is queued on the connection: a frozen or slow Redis must
          // not hold up a drain, so it gets QUIT_WAIT_MS, then the socket is closed.
          if (connection.status === 'ready') {
            await Promise.race([connection.quit().catch(() => undefined), new Promise((resolve) => after(QUIT_WAIT_MS, () => resolve(null)))]);
          }
          connection.disconnect();
        }),
      );
    },
  };
}
