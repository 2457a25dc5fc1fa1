import type { PublishedEntry, ReplayResult, ResetReason } from '../core/index.ts';
import { decodePayload, seqOfId } from './entryCodec.ts';
import { localEpochOrigin, type LocalFallback } from './localFallback.ts';
import type { RecentEntries } from './recentEntries.ts';
import type { ModeMachine } from './modeMachine.ts';
import type { SinceReply } from './redisLink.ts';
import { isReplyError, messageOf } from './redisErrors.ts';

/** What {@link ReplayReads} needs from its backend. */
export interface ReplayReadsOptions {
  readonly mode: Pick<ModeMachine, 'shared'>;
  readonly local: Pick<LocalFallback, 'epoch' | 'since'>;
  /** Reads the shared stream (see `RedisLink.since`). */
  readonly read: (scope: string, epoch: string, afterSeq: number) => Promise<SinceReply>;
  /** A read not answered within this gets a reset (see `RedisBackendOptions.commandTimeoutMs`). */
  readonly commandTimeoutMs: number;
  /** A read failed for another reason than Redis refusing it: Redis is unreachable. */
  readonly onUnreachable: (why: string) => void;
  /** Entries the hub has already (see {@link RecentEntries}): a replay hands over those objects. @default none */
  readonly recent?: RecentEntries;
}

/**
 * Replay for a resuming client: from the local history while not shared,
 * from the tenant's Redis stream while shared, with identical reads made in
 * one event-loop turn sharing one Redis call.
 */
export class ReplayReads {
  /** Reads not sent yet, by (scope, epoch, cursor seq): identical requests made before one is sent share it. */
  private readonly queued = new Map<string, Promise<ReplayResult>>();

  constructor(private readonly options: ReplayReadsOptions) {}

  /** See `LiveBackend.since`. */
  since(scope: string, epoch: string, afterSeq: number): ReplayResult | Promise<ReplayResult> {
    const { mode, local } = this.options;
    const heldOrigin = localEpochOrigin(epoch);
    // A cursor of a local fallback (here or on another instance) cannot be served: a reset, and
    // the hub keeps the copies of what the client got there from reaching it again.
    const held = heldOrigin === undefined ? {} : { heldOrigin };
    if (!mode.shared) {
      if (epoch === local.epoch) return local.since(scope, epoch, afterSeq);
      // The cursor is from the shared history (or another local one), which cannot be read now.
      return { ok: false, reason: 'gap', ...held };
    }
    if (heldOrigin !== undefined) return { ok: false, reason: 'epoch', ...held };
    return this.readShared(scope, epoch, afterSeq);
  }

  /**
   * A reconnect storm (a deploy, a network blip) brings many clients of one tenant back with the
   * same cursor: identical requests share one Redis call and one decoded (and later encoded) set
   * of entries, instead of queueing thousands of stream reads in Redis. Only requests made before
   * the read is sent may share it: its snapshot must be taken after every sharer registered (and
   * started holding live entries), or an entry delivered between the snapshot and a late
   * sharer's registration reaches that client neither way (a lost signal, found by the soak's
   * deploy storm). So a read waits for the end of this event-loop turn, gathering the turn's requests.
   */
  private readShared(scope: string, epoch: string, afterSeq: number): Promise<ReplayResult> {
    const flightKey = `${scope}\u0000${epoch}\u0000${afterSeq}`;
    const queued = this.queued.get(flightKey);
    if (queued) return queued;
    const read = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => {
        this.queued.delete(flightKey);
        return this.readWithTimeout(scope, epoch, afterSeq);
      })
      .then(
        (reply): ReplayResult => {
          if (reply === 'timeout') return { ok: false, reason: 'gap' };
          const [status, raw] = reply;
          return status === 'ok'
            ? { ok: true, entries: decodeReplay(raw ?? [], epoch, this.options.recent) }
            : { ok: false, reason: status as ResetReason };
        },
        (error: unknown): ReplayResult => {
          if (!isReplyError(error)) this.options.onUnreachable(messageOf(error));
          return { ok: false, reason: 'gap' };
        },
      );
    this.queued.set(flightKey, read);
    return read;
  }

  private readWithTimeout(scope: string, epoch: string, afterSeq: number): Promise<SinceReply | 'timeout'> {
    return new Promise<SinceReply | 'timeout'>((resolve, reject) => {
      // Slow is not down (the silence watch decides that): a late read only resets its clients.
      const timer = setTimeout(() => resolve('timeout'), this.options.commandTimeoutMs);
      this.options.read(scope, epoch, afterSeq).then(
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
  }
}

/**
 * Entries of a SINCE_SCRIPT reply (newest first), oldest first, the latest per key. An entry `recent`
 * holds at the same position with the same identity is handed over as that object (not decoded again),
 * and each decoded one is remembered there.
 */
export function decodeReplay(newestFirst: Array<[string, string[]]>, epoch: string, recent?: RecentEntries): PublishedEntry[] {
  // The script compacted already; re-inserting per key keeps that true
  // whatever the stream holds, and yields oldest first.
  const latest = new Map<string, PublishedEntry>();
  for (let i = newestFirst.length - 1; i >= 0; i--) {
    const [id, fields] = newestFirst[i]!;
    let payload: string | undefined;
    let origin: string | undefined;
    let serial: string | undefined;
    for (let j = 0; j + 1 < fields.length; j += 2) {
      const field = fields[j];
      if (field === 'd') payload = fields[j + 1];
      else if (field === 'o') origin = fields[j + 1];
      else if (field === 'n') serial = fields[j + 1];
    }
    const seq = seqOfId(id);
    let entry = recent?.get(epoch, seq, origin, serial) ?? null;
    if (!entry && payload !== undefined) {
      entry = decodePayload(payload, epoch, seq);
      if (entry) recent?.remember(entry);
    }
    if (!entry) continue;
    latest.delete(entry.key);
    latest.set(entry.key, entry);
  }
  return [...latest.values()];
}
