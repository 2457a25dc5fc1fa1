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
  /** A command not answered within this fails, and publishing falls back to local. @default 2000 */
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
  /** Called on every change of mode (logs, metrics, health). Must not throw. */
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
}

interface LiveCommands {
  livePublish(...args: (string | number)[]): Promise<[string, number]>;
  liveSince(...args: (string | number)[]): Promise<[string, Array<[string, string[]]>?]>;
  liveHello(...args: (string | number)[]): Promise<[string, number]>;
}

type LocalHistory = { epoch: string; seq: number; log: ReturnType<typeof createMemoryReplayLog> };

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
 * clients under a local epoch; when it returns, the backend rejoins the
 * shared history, signals a gap (every connection gets `reset`) and forwards
 * what was published locally. No error escapes as an unhandled rejection.
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
  const logger = options.logger === undefined ? console : options.logger;
  const keys = { epoch: `${prefix}:epoch`, seq: `${prefix}:seq`, floor: `${prefix}:floor` };
  const streamKey = (scope: string) => `${prefix}:s:${scope}`;
  const channel = `${prefix}:signals`;

  const backoff = (attempt: number) =>
    Math.round(Math.min(retryBaseMs * 2 ** Math.min(attempt - 1, 20), retryMaxMs) * (0.8 + Math.random() * 0.4));
  const connectionOptions: RedisOptions = {
    // Fail fast: a publish must never wait for Redis; it falls back to local delivery.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    connectTimeout: 2000,
    // Subscription state is ours: we resubscribe and signal the gap ourselves.
    autoResubscribe: false,
    retryStrategy: backoff,
    ...options.redisOptions,
  };
  const url = options.url ?? 'redis://127.0.0.1:6379';
  const cmd = new Redis(url, { ...connectionOptions, connectionName: `${prefix}-live-cmd` }) as Redis & LiveCommands;
  cmd.defineCommand('livePublish', { numberOfKeys: 4, lua: PUBLISH_SCRIPT });
  cmd.defineCommand('liveSince', { numberOfKeys: 4, lua: SINCE_SCRIPT });
  cmd.defineCommand('liveHello', { numberOfKeys: 2, lua: HELLO_SCRIPT });
  const sub =
    options.subscribe === false ? null : new Redis(url, { ...connectionOptions, connectionName: `${prefix}-live-sub` });

  const freshLocal = (): LocalHistory => {
    const epoch = newEpoch(now());
    return { epoch, seq: 0, log: createMemoryReplayLog(epoch, { ...options.localReplay, now }) };
  };

  let mode: RedisBackendMode = 'connecting';
  let modeSince = now();
  let lastError: string | null = null;
  let sharedEpoch: string | null = null;
  let local = freshLocal();
  let listener: BackendListener | null = null;
  let subscribed = false;
  /** Next seq expected on the channel; `null` until the first message after (re)subscribing. */
  let expected: number | null = null;
  let joining = false;
  let probeTimer: ReturnType<typeof setTimeout> | null = null;
  let probeAttempt = 0;
  let outages = 0;
  let localPublishes = 0;
  let gaps = 0;
  /** Local publishes to forward, latest per (scope, key), in publish order. */
  const forward = new Map<string, PublishRequest>();
  let forwardOverflow = false;
  let forwardIds = 0;
  let readyWaiters: Array<(joined: boolean) => void> = [];
  /** Replay reads not sent yet, by (scope, epoch, cursor seq): identical requests made before one is sent share it. */
  const replaysQueued = new Map<string, Promise<ReplayResult>>();

  const state = (): RedisBackendState => ({
    mode,
    epoch: mode === 'shared' && sharedEpoch ? sharedEpoch : local.epoch,
    since: modeSince,
    error: mode === 'shared' ? null : lastError,
    outages,
    localPublishes,
    gaps,
    forwardPending: forward.size,
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

  /** Redis became unreachable (or a command failed): deliver locally until it is back. */
  const degrade = (why: string) => {
    lastError = why;
    if (mode === 'closed') return;
    if (mode === 'shared') {
      outages++;
      mode = 'local';
      modeSince = now();
      local = freshLocal();
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
      const rejoined = mode === 'local';
      sharedEpoch = epoch;
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
      // Whatever was published elsewhere while this instance was not
      // subscribed is lost for its clients: they refetch everything.
      signalGap('gap');
      await forwardLocal();
    } catch (error) {
      if (mode !== 'shared') {
        lastError = messageOf(error);
        scheduleProbe();
      }
    } finally {
      joining = false;
    }
  };

  /** Publishes what was delivered only locally during the outage, so every instance gets it. */
  const forwardLocal = async () => {
    if (!forward.size && !forwardOverflow) return;
    const pending = [...forward.values()];
    const overflow = forwardOverflow;
    forward.clear();
    forwardOverflow = false;
    const CHUNK = 256;
    for (let i = 0; i < pending.length; i += CHUNK) {
      const chunk = pending.slice(i, i + CHUNK);
      const results = await Promise.allSettled(chunk.map((request) => publishShared(request)));
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
        for (const request of [...failed, ...pending.slice(i + CHUNK)]) remember(request);
        forwardOverflow ||= overflow;
        degrade(messageOf(unreachable));
        return;
      }
    }
    if (overflow) await cmd.publish(channel, GAP_MESSAGE).catch((error: unknown) => degrade(messageOf(error)));
    changed();
  };

  const remember = (request: PublishRequest) => {
    // Unique signals (events) each keep their own slot; idempotent ones the latest per key.
    const id = `${request.scope}\u0000${request.key ?? `#${++forwardIds}`}`;
    forward.delete(id);
    forward.set(id, request);
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

  const publishShared = async (request: PublishRequest): Promise<PublishedEntry> => {
    const [epoch, seq] = await cmd.livePublish(
      keys.epoch,
      keys.seq,
      streamKey(request.scope),
      keys.floor,
      newEpoch(now()),
      channel,
      request.scope,
      encodeRequest(request),
      maxLen,
      slack,
      request.key ?? '',
    );
    adoptEpoch(epoch);
    const entry = toEntry(request, epoch, seq);
    // Publish-only: no subscription brings it back, so this hub gets it here.
    if (!sub) listener?.deliver(entry);
    return entry;
  };

  const publishLocal = (request: PublishRequest): PublishedEntry => {
    const seq = ++local.seq;
    const entry = toEntry(request, local.epoch, seq);
    local.log.append(entry);
    localPublishes++;
    remember(request);
    listener?.deliver(entry);
    return entry;
  };

  const onMessage = (from: string, message: string) => {
    if (from !== channel) return;
    if (message === GAP_MESSAGE) {
      if (mode === 'shared') signalGap('gap');
      return;
    }
    const entry = decodeMessage(message);
    if (!entry) {
      logger?.warn(`[live:redis] ignored a malformed message on ${channel}`);
      if (mode === 'shared') signalGap('gap');
      return;
    }
    if (mode === 'shared') {
      if (entry.epoch !== sharedEpoch) adoptEpoch(entry.epoch);
      // One channel carries every scope: any hole in the sequence is a lost signal.
      else if (expected !== null && entry.seq !== expected) signalGap('gap');
    }
    expected = entry.seq + 1;
    listener?.deliver(entry);
  };

  const onClose = (which: string) => () => {
    if (which === 'subscriber') subscribed = false;
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

  return {
    name: 'redis',
    epoch: () => (mode === 'shared' && sharedEpoch ? sharedEpoch : local.epoch),
    attach(l) {
      listener = l;
    },
    publish(request) {
      if (mode === 'closed') return Promise.reject(new LiveError('CLOSED', 'The live backend is closed'));
      if (mode !== 'shared') return publishLocal(request);
      return publishShared(request).catch((error: unknown) => {
        if (isReplyError(error)) {
          throw new LiveError('BACKEND', 'Publishing the signal failed', { cause: error });
        }
        degrade(messageOf(error));
        if ((mode as RedisBackendMode) === 'closed') throw new LiveError('CLOSED', 'The live backend is closed');
        return publishLocal(request);
      });
    },
    since(scope, epoch, afterSeq): ReplayResult | Promise<ReplayResult> {
      if (mode !== 'shared') {
        if (epoch === local.epoch) return local.log.since(scope, epoch, afterSeq);
        // The cursor is from the shared history, which cannot be read now.
        return { ok: false, reason: 'gap' };
      }
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
          return cmd.liveSince(keys.epoch, keys.seq, streamKey(scope), keys.floor, epoch, afterSeq, scope);
        })
        .then(
          ([status, raw]): ReplayResult =>
            status === 'ok' ? { ok: true, entries: decodeReplay(raw ?? [], epoch) } : { ok: false, reason: status as ResetReason },
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
    async close() {
      if (mode === 'closed') return;
      mode = 'closed';
      modeSince = now();
      listener = null;
      if (probeTimer) clearTimeout(probeTimer);
      probeTimer = null;
      for (const resolve of readyWaiters.splice(0)) resolve(false);
      changed();
      await Promise.all(
        [cmd, sub].map(async (connection) => {
          if (!connection) return;
          if (connection.status === 'ready') await connection.quit().catch(() => undefined);
          connection.disconnect();
        }),
      );
    },
  };
}
