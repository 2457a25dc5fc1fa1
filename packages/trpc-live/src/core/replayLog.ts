import type { PublishedEntry } from './backend.ts';
import { LiveError } from '../shared/errors.ts';
import type { ResetReason } from '../shared/messages.ts';

/** What a replay request gets: the entries since the cursor, or a reset. */
export type ReplayResult =
  | { readonly ok: true; readonly entries: readonly PublishedEntry[] }
  | {
      readonly ok: false;
      readonly reason: ResetReason;
      /**
       * The cursor was in a history whose seqs are one origin's serials (a
       * Redis instance's local fallback): the client holds that origin's
       * signals up to the cursor, and copies of them that arrive later (Redis
       * ran the command after all, or it was forwarded) must not reach it
       * again. See `PublishedEntry.origin`. @default absent
       */
      readonly heldOrigin?: string;
    };

/**
 * Compacted history of one hub: the latest entry per (scope, key). A cursor
 * older than what was evicted, newer than the head, or from another epoch
 * cannot be served and gets a reset instead.
 */
export interface ReplayStore {
  /** Records a published entry, replacing the previous entry of its (scope, key). */
  append(entry: PublishedEntry): void;
  /** Entries of `scope` with `seq > afterSeq`, oldest first. */
  since(scope: string, epoch: string, afterSeq: number): ReplayResult;
}

/** Bounds of {@link createMemoryReplayLog}. */
export interface ReplayLogOptions {
  /** Most distinct keys kept per scope. @default 10_000 */
  maxKeysPerScope?: number;
  /** Entries older than this are evicted. @default 3_600_000 (1 h) */
  maxAgeMs?: number;
  /** Clock for age eviction. @default Date.now */
  now?: () => number;
}

interface ScopeLog {
  /** Live entries by key. */
  byKey: Map<string, Slot>;
  /** Slots in seq order; superseded ones are marked dead and compacted lazily. */
  order: Slot[];
  /** Index of the first slot that may be alive. */
  start: number;
  dead: number;
  /** Highest seq evicted from this scope: older cursors get `evicted`. */
  floor: number;
}

interface Slot {
  entry: PublishedEntry;
  alive: boolean;
  at: number;
}

/**
 * The default in-memory {@link ReplayStore}: memory is O(distinct keys), not
 * O(events), because a newer entry for a key replaces the older one.
 */
export function createMemoryReplayLog(epoch: string, options: ReplayLogOptions = {}): ReplayStore & {
  /** Highest seq appended (the head). */
  readonly head: number;
  /** Distinct keys held across scopes. */
  readonly size: number;
} {
  const maxKeys = options.maxKeysPerScope ?? 10_000;
  const maxAge = options.maxAgeMs ?? 3_600_000;
  if (!(Number.isInteger(maxKeys) && maxKeys > 0)) throw new LiveError('BAD_OPTIONS', 'maxKeysPerScope must be a positive integer');
  if (!(maxAge > 0)) throw new LiveError('BAD_OPTIONS', 'maxAgeMs must be a positive number');
  const now = options.now ?? Date.now;
  const scopes = new Map<string, ScopeLog>();
  let head = 0;
  let size = 0;

  const evictFront = (log: ScopeLog, until: (slot: Slot) => boolean) => {
    while (log.start < log.order.length) {
      const slot = log.order[log.start]!;
      if (slot.alive) {
        if (!until(slot)) break;
        slot.alive = false;
        log.byKey.delete(slot.entry.key);
        log.floor = Math.max(log.floor, slot.entry.seq);
        size--;
      } else {
        log.dead--;
      }
      log.start++;
    }
    // Compact once the dead prefix and tombstones dominate the array.
    if (log.start + log.dead > 64 && log.start + log.dead > log.order.length / 2) {
      log.order = log.order.slice(log.start).filter((s) => s.alive);
      log.start = 0;
      log.dead = 0;
    }
  };

  const expire = (log: ScopeLog) => {
    const cutoff = now() - maxAge;
    evictFront(log, (slot) => slot.at < cutoff);
  };

  return {
    get head() {
      return head;
    },
    get size() {
      return size;
    },
    append(entry) {
      head = Math.max(head, entry.seq);
      let log = scopes.get(entry.scope);
      if (!log) {
        log = { byKey: new Map(), order: [], start: 0, dead: 0, floor: 0 };
        scopes.set(entry.scope, log);
      }
      const previous = log.byKey.get(entry.key);
      if (previous) {
        previous.alive = false;
        log.dead++;
        size--;
      }
      const slot: Slot = { entry, alive: true, at: now() };
      log.byKey.set(entry.key, slot);
      log.order.push(slot);
      size++;
      expire(log);
      if (log.byKey.size > maxKeys) {
        let excess = log.byKey.size - maxKeys;
        evictFront(log, () => excess-- > 0);
      }
    },
    since(scope, cursorEpoch, afterSeq) {
      if (cursorEpoch !== epoch) return { ok: false, reason: 'epoch' };
      if (afterSeq > head) return { ok: false, reason: 'unknown-cursor' };
      const log = scopes.get(scope);
      if (!log) return { ok: true, entries: [] };
      expire(log);
      if (afterSeq < log.floor) return { ok: false, reason: 'evicted' };
      // Binary search for the first slot with seq > afterSeq.
      let lo = log.start;
      let hi = log.order.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (log.order[mid]!.entry.seq <= afterSeq) lo = mid + 1;
        else hi = mid;
      }
      const entries: PublishedEntry[] = [];
      for (let i = lo; i < log.order.length; i++) {
        const slot = log.order[i]!;
        if (slot.alive) entries.push(slot.entry);
      }
      return { ok: true, entries };
    },
  };
}
