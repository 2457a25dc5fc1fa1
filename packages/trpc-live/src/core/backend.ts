import { assertEpoch, newEpoch } from '../shared/cursor.ts';
import type { LiveTimers } from './clock.ts';
import type { GroupFilter } from './groups.ts';
import type { Lane, LiveSignal, ResetReason } from '../shared/messages.ts';
import { createMemoryReplayLog, type ReplayLogOptions, type ReplayResult, type ReplayStore } from './replayLog.ts';
import type { Frame } from './sink.ts';

export type { GroupFilter } from './groups.ts';

/** A signal on its way into a backend. */
export interface PublishRequest {
  /** The tenant (or other isolation unit) the signal belongs to; only connections of this scope receive it. */
  readonly scope: string;
  /** The topic subscribers match with their patterns (see `defaultTopic`). */
  readonly topic: string;
  /** The outbox lane that delivers it: `instant`, `batched` or `coalesced`. */
  readonly lane: Lane;
  /** Restricts delivery to connections whose groups match; absent (the default) means every connection of the scope. */
  readonly groups?: GroupFilter;
  /** The signal itself. */
  readonly signal: LiveSignal;
  /**
   * Compaction key (see `keyOf`), or `null` for signals that are unique
   * (events): the backend then uses `#<seq>`.
   */
  readonly key: string | null;
}

/** A request after the backend placed it in history. */
export interface PublishedEntry extends Omit<PublishRequest, 'key'> {
  /** Compaction key: the request's key, or `#<seq>` when that was `null`. */
  readonly key: string;
  /** The history (epoch) the entry was sequenced in. */
  readonly epoch: string;
  /** Its position in that history: one more than the previous entry's. */
  readonly seq: number;
  /**
   * Identity of the published signal, set by backends that may sequence one
   * publish more than once (Redis: a local fallback copy, a command Redis ran
   * after its deadline, a copy forwarded into the shared history). The
   * publishing process (`origin`, unique per backend instance) numbers its
   * publishes (`serial`, from 1); every copy keeps both, so a backend drops
   * the copies after the first. @default absent: `epoch:seq` is the identity
   */
  readonly origin?: string;
  /** The publish's number within `origin` (from 1; see `origin`). @default absent */
  readonly serial?: number;
  /** Cache slot the hub fills with the entry's encoded frame. */
  frame?: Frame;
  /**
   * Slot the hub fills when it delivers the entry (its clock, ms), before
   * any tap sees it: where publish-to-write latencies of what the entry
   * causes start (its frame, and the results pushed after it).
   */
  deliveredAt?: number;
}

/** Health a backend reports (`/api/health` detail, metrics). */
export interface BackendHealth {
  /** False when the backend cannot currently publish or replay as it should (e.g. Redis unreachable). */
  readonly ok: boolean;
  /** Human-readable state for health pages and logs; absent when there is nothing to say. */
  readonly detail?: string;
}

/** Callbacks a backend drives. */
export interface BackendListener {
  /** An entry was published, by this process or another instance. */
  deliver(entry: PublishedEntry): void;
  /**
   * History may have a gap for every connected client (e.g. the shared
   * backend was unreachable): the hub sends each connection a reset.
   */
  gap?(reason: ResetReason): void;
  /**
   * A copy of a signal the hub already got is at `epoch:seq` (the backend dropped it): the hub's head in
   * `epoch` moves there, so a reset or a fresh stream's start names a position after it.
   */
  advance?(epoch: string, seq: number): void;
}

/**
 * Where signals are sequenced, stored for replay and fanned out. The
 * in-memory backend is the default; a shared one (Redis) lets several
 * processes serve one history. Small on purpose: publish, replay, subscribe,
 * close; health is optional.
 */
export interface LiveBackend {
  /** Short name shown in health and metrics (`memory`, `redis`). */
  readonly name: string;
  /** Current epoch (history identity). */
  epoch(): string;
  /** Called once by the hub before any publish. */
  attach(listener: BackendListener): void;
  /**
   * Sequences the request, stores it for replay, and delivers it to every
   * attached hub (including this one). Memory: synchronous.
   */
  publish(request: PublishRequest): PublishedEntry | Promise<PublishedEntry>;
  /** Compacted entries of `scope` after a cursor, or why a reset is needed. */
  since(scope: string, epoch: string, afterSeq: number): ReplayResult | Promise<ReplayResult>;
  /** Optional health detail. */
  health?(): BackendHealth;
  /** Releases connections and timers and detaches the hub, which gets no deliveries afterwards. Safe to call twice. */
  close(): Promise<void>;
}

/** Options of {@link createMemoryBackend}. */
export interface MemoryBackendOptions extends ReplayLogOptions {
  /** History identity. @default a fresh epoch per backend */
  epoch?: string;
  /** Clock for replay ages. @default Date.now */
  timers?: Pick<LiveTimers, 'now'>;
  /**
   * Where history is kept for replay. @default createMemoryReplayLog(epoch, options):
   * in memory, bounded by `maxKeysPerScope` and `maxAgeMs`
   */
  replayStore?: (epoch: string) => ReplayStore;
}

/**
 * The default backend: one process, sequence and replay log in memory. A
 * restart starts a new epoch, so old cursors get a reset.
 */
export function createMemoryBackend(options: MemoryBackendOptions = {}): LiveBackend {
  const now = options.timers?.now ?? options.now ?? Date.now;
  const epoch = options.epoch ?? newEpoch(now());
  assertEpoch(epoch);
  const log = options.replayStore ? options.replayStore(epoch) : createMemoryReplayLog(epoch, { ...options, now });
  let listener: BackendListener | null = null;
  let seq = 0;
  return {
    name: 'memory',
    epoch: () => epoch,
    attach(l) {
      listener = l;
    },
    publish(request) {
      seq++;
      const entry: PublishedEntry = { ...request, key: request.key ?? `#${seq}`, epoch, seq };
      log.append(entry);
      listener?.deliver(entry);
      return entry;
    },
    since: (scope, cursorEpoch, afterSeq) => log.since(scope, cursorEpoch, afterSeq),
    health: () => ({ ok: true }),
    async close() {
      listener = null;
    },
  };
}
