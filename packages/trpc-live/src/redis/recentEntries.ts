import type { PublishedEntry } from '../core/index.ts';

/**
 * Entries remembered (the oldest remembered is forgotten first): ~40 s of a 100 signals/s flow, the length
 * of a deploy storm's replays (soak row 3c). Each holds its frame once encoded: 8,192 of the soak's signals
 * with their frames took 17.6 MiB of heap (after GC, 2026-12-07), so ~9 MiB at this bound.
 */
const DEFAULT_LIMIT = 4_096;

/**
 * The entries of the shared history this backend handed its hub or decoded
 * for a replay lately, by position (`epoch:seq`, which Redis gives one
 * publish only), so a replay hands the hub the very object it already has
 * for a position instead of a fresh decode of it. The hub encodes an entry's
 * frame once and caches it on the entry (`FrameFactory.data`), as the
 * in-memory backend's replay shares its log's entries: a reconnect storm
 * then encodes each replayed signal once, not once per resuming client.
 *
 * Why it matters: Node 20 (libuv >= 1.45) accepts one connection per
 * event-loop turn, so the clients of a storm arrive one turn apart and
 * their replay reads are never shared (`ReplayReads` shares a read only
 * within a turn); each read decoded, and the hub serialized, the whole
 * missed range again for every client.
 */
export class RecentEntries {
  private readonly entries = new Map<string, PublishedEntry>();

  constructor(private readonly limit = DEFAULT_LIMIT) {}

  /** Number of entries remembered. */
  get size(): number {
    return this.entries.size;
  }

  /** Remembers `entry` at its position (a later entry at the same position replaces it). */
  remember(entry: PublishedEntry): void {
    const position = `${entry.epoch}:${entry.seq}`;
    const entries = this.entries;
    entries.delete(position);
    entries.set(position, entry);
    if (entries.size > this.limit) entries.delete(entries.keys().next().value!);
  }

  /**
   * The entry remembered at `epoch:seq`, if it is the publish `origin`/`serial` (a stream entry's
   * identity fields, absent on entries written before identities existed).
   */
  get(epoch: string, seq: number, origin: string | undefined, serial: string | undefined): PublishedEntry | undefined {
    const entry = this.entries.get(`${epoch}:${seq}`);
    if (!entry) return undefined;
    if (origin === undefined) return entry.origin === undefined ? entry : undefined;
    return entry.origin === origin && String(entry.serial) === serial ? entry : undefined;
  }
}
