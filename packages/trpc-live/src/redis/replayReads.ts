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
  readonly local: Pick<LocalFallback, 'epoch' | 'since' | 'lastSerial'>;
  /** Highest serial of this backend Redis confirmed as possibly twinned (see `TwinMarks.confirmed`). */
  readonly twinsConfirmed: () => number;
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
 * Most replay reads sent to Redis and not answered yet; the others wait here, unsent. Redis runs the
 * pipelined commands it has read before it writes their answers, and the publishes and PINGs share the
 * connection: 200 reads of 100-600 entries, sent at once, kept Redis from answering anything for more than
 * the 400 ms after which it counts as unreachable, and the backend fell back and reset every client
 * (faults.test.ts, "reconnect storm reads"). Soak row 3c beside other work, 11 runs with the server's log
 * kept: the 6 that fell back ("no answer from Redis for 400 ms") reset every client and lost 384-1,222
 * (client, publish) pairs; the 5 that did not lost none.
 * With 8, those 200 reads took 2.1 s and the backend stayed shared.
 */
const MAX_READS_IN_FLIGHT = 8;

/** Strings per entry in a SINCE_SCRIPT reply (id, payload, origin, serial). */
const ENTRY_WIDTH = 4;

/**
 * Replay for a resuming client: from the local history while not shared,
 * from the tenant's Redis stream while shared, with identical reads made in
 * one event-loop turn sharing one Redis call.
 */
export class ReplayReads {
  /** Reads not sent yet, by (scope, epoch, cursor seq): identical requests made before one is sent share it. */
  private readonly queued = new Map<string, Promise<ReplayResult>>();
  /** Reads sent and not settled (see {@link MAX_READS_IN_FLIGHT}). */
  private inFlight = 0;
  /** Reads waiting for one in flight to settle, oldest first. */
  private readonly waiting: Array<() => void> = [];

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
   * deploy storm). So a read waits for the end of this event-loop turn, gathering the turn's requests,
   * and then for a free slot (at most {@link MAX_READS_IN_FLIGHT} in flight): requests made while it waits
   * share it too, as it is not sent yet.
   */
  private readShared(scope: string, epoch: string, afterSeq: number): Promise<ReplayResult> {
    const flightKey = `${scope}\u0000${epoch}\u0000${afterSeq}`;
    const queued = this.queued.get(flightKey);
    if (queued) return queued;
    const read = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.slot())
      .then(() => {
        // Sent now, in the same microtask: no request can join it after its snapshot.
        this.queued.delete(flightKey);
        const marked = this.options.twinsConfirmed();
        return this.readWithTimeout(scope, epoch, afterSeq).then((reply) => ({ reply, marked }));
      })
      .then(
        ({ reply, marked }): ReplayResult => {
          if (reply === 'timeout') return { ok: false, reason: 'gap' };
          const [status, raw] = reply;
          if (status !== 'ok') return { ok: false, reason: status as ResetReason };
          // A local copy Redis did not know as a twin when it ran this read (the mark was not confirmed when the
          // read was sent, so it may run after it): the read may hold its shared copy, which the clients got
          // locally already. Redis goes silent with publishes and reads in flight, the backend delivers the
          // publishes locally and marks them, but the mark is queued behind the reads, which then serve the
          // same publishes from the stream (fallbackStorm.test.ts: 6-20 streams got a signal twice per run).
          if (this.options.local.lastSerial > marked) return { ok: false, reason: 'gap' };
          return { ok: true, entries: decodeReplay(raw ?? [], epoch, this.options.recent) };
        },
        (error: unknown): ReplayResult => {
          if (!isReplyError(error)) this.options.onUnreachable(messageOf(error));
          return { ok: false, reason: 'gap' };
        },
      );
    this.queued.set(flightKey, read);
    return read;
  }

  /** Resolves once this read may be sent (and counts it in flight). */
  private slot(): Promise<void> {
    if (this.inFlight < MAX_READS_IN_FLIGHT) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) =>
      this.waiting.push(() => {
        this.inFlight++;
        resolve();
      }),
    );
  }

  /** A read sent to Redis settled (answered or failed, not merely timed out): the next waiting one may go. */
  private release(): void {
    this.inFlight--;
    this.waiting.shift()?.();
  }

  private readWithTimeout(scope: string, epoch: string, afterSeq: number): Promise<SinceReply | 'timeout'> {
    return new Promise<SinceReply | 'timeout'>((resolve, reject) => {
      // Slow is not down (the silence watch decides that): a late read only resets its clients.
      const timer = setTimeout(() => resolve('timeout'), this.options.commandTimeoutMs);
      let sent: Promise<SinceReply>;
      try {
        sent = this.options.read(scope, epoch, afterSeq);
      } catch (error) {
        sent = Promise.reject(error);
      }
      sent.then(
        (reply) => {
          clearTimeout(timer);
          this.release();
          resolve(reply);
        },
        (error: unknown) => {
          clearTimeout(timer);
          this.release();
          reject(error);
        },
      );
    });
  }
}

/**
 * Entries of a SINCE_SCRIPT reply (newest first, four strings each: id, payload, origin, serial, `''` where
 * the entry had none), oldest first, the latest per key. An entry `recent` holds at the same position with
 * the same identity is handed over as that object (not decoded again), and each decoded one is remembered there.
 */
export function decodeReplay(newestFirst: readonly string[], epoch: string, recent?: RecentEntries): PublishedEntry[] {
  // The script compacted already; re-inserting per key keeps that true
  // whatever the stream holds, and yields oldest first.
  const latest = new Map<string, PublishedEntry>();
  for (let i = newestFirst.length - ENTRY_WIDTH; i >= 0; i -= ENTRY_WIDTH) {
    const payload = newestFirst[i + 1]!;
    const seq = seqOfId(newestFirst[i]!);
    let entry = recent?.get(epoch, seq, newestFirst[i + 2] || undefined, newestFirst[i + 3] || undefined) ?? null;
    if (!entry && payload !== '') {
      entry = decodePayload(payload, epoch, seq);
      if (entry) recent?.remember(entry);
    }
    if (!entry) continue;
    latest.delete(entry.key);
    latest.set(entry.key, entry);
  }
  return [...latest.values()];
}
