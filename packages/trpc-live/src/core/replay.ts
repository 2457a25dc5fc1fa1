import type { LiveBackend } from './backend.ts';
import type { LiveConnection } from './connection.ts';
import { parseCursor } from '../shared/cursor.ts';
import type { FrameFactory } from './frames.ts';
import { groupsMatch } from './groups.ts';
import type { LiveMetrics } from './metrics.ts';
import { overflow } from './overflow.ts';
import type { Frame } from './sink.ts';
import { matchTopic } from '../shared/topic.ts';

/** What a replay on connect needs from the hub. */
export interface ReplaySource {
  readonly backend: LiveBackend;
  readonly metrics: LiveMetrics;
  readonly frames: FrameFactory;
  /** Most frames one replay writes before it overflows into a reset (the outbox's `maxDirtyKeys`). */
  readonly maxKeys: number;
  /** The newest seq the hub delivered in the current epoch. */
  headSeq(): number;
}

type SinceAnswer = Awaited<ReturnType<LiveBackend['since']>>;

/**
 * Answers a stream that resumes from `lastEventId`: the compacted entries
 * above the cursor's watermark that match the connection, except the seqs
 * the cursor lists, bounded like an outbox; or one reset when the cursor is
 * malformed, unknown, evicted or of another epoch. With an asynchronous
 * backend the connection holds live frames until the answer is written.
 */
export function replayTo(connection: LiveConnection, lastEventId: string, source: ReplaySource): void {
  const { backend, metrics } = source;
  const cursor = parseCursor(lastEventId);
  if (!cursor) {
    metrics.replay?.(false, 0);
    connection.sendReset('unknown-cursor');
    return;
  }
  let snapshotSeq = 0;
  const answer = (result: SinceAnswer) => {
    if (connection.closed) return;
    if (!result.ok) {
      metrics.replay?.(false, 0);
      // A cursor of a backend's local fallback: the client keeps what it has (no copy of it again).
      if (result.heldOrigin !== undefined) connection.holdsFrom(result.heldOrigin, cursor);
      connection.sendReset(result.reason);
      return;
    }
    const frames: Frame[] = [];
    const beyond = cursor.beyond;
    for (const entry of result.entries) {
      // The one place a resume skips what the client already has (every backend answers `since` by watermark only).
      if (beyond.length !== 0 && beyond.includes(entry.seq)) continue;
      if (!groupsMatch(entry.groups, connection.groups)) continue;
      if (!connection.patterns.some((p) => matchTopic(p, entry.topic))) continue;
      frames.push(source.frames.data(entry));
    }
    if (frames.length <= source.maxKeys) {
      metrics.replay?.(true, frames.length);
      connection.sendReplay({ frames, cursor, snapshotSeq });
      return;
    }
    // Bounded like an outbox, by the same rule: one reset stands for what is left out, from the oldest of it on.
    const { kept, covered, dropped } = overflow(frames, { maxKeys: source.maxKeys, maxBytes: Infinity });
    if (dropped.length) metrics.dropped?.(dropped.length);
    metrics.replay?.(false, kept.length);
    const resetFloor = Math.min(covered[0]?.seq ?? Infinity, dropped[0]?.seq ?? Infinity);
    connection.sendReplay({ frames: kept, cursor, snapshotSeq, resetFloor });
  };
  let result: ReturnType<LiveBackend['since']>;
  try {
    result = backend.since(connection.scope, cursor.epoch, cursor.seq);
  } catch {
    result = { ok: false, reason: 'gap' };
  }
  if (result instanceof Promise) {
    connection.hold();
    result.then(answer, () => answer({ ok: false, reason: 'gap' }));
  } else {
    // Synchronous: the snapshot holds everything up to the head, even an
    // entry being delivered right now (a connect from inside a delivery).
    snapshotSeq = source.headSeq();
    answer(result);
  }
}
