import type { Frame } from './sink.ts';

/** A reset makes the client refetch every query: pending invalidations add nothing to it. */
export const coveredByReset = (frame: Frame): boolean => frame.message.kind === 'invalidate';

/** How much a connection keeps of what it could not write in time: distinct keys and their payload bytes. */
export interface KeyBound {
  readonly maxKeys: number;
  readonly maxBytes: number;
}

/** What survives an overflow of a {@link KeyBound}; one reset stands for the rest. */
export interface Overflow {
  /** What is still sent, in the order given. */
  readonly kept: Frame[];
  /** Invalidations the reset covers (not lost: the client refetches everything). */
  readonly covered: Frame[];
  /** Frames lost (counted as `metrics.dropped`); the reset tells the client. */
  readonly dropped: Frame[];
}

/**
 * The one overflow rule, for a connection's dirty keys (`Outbox`) and for a
 * replay on connect (`replay.ts`), so a client that fell behind and one that
 * resumes from far back end up with the same thing: one reset replaces every
 * invalidation; what a reset does not cover is kept if it fits; otherwise
 * only what must arrive (progress and completion, whose final value the
 * client needs; events are dropped), the newest of it while it fits.
 * `frames` oldest first; call it once they do not fit `bound`.
 */
export function overflow(frames: readonly Frame[], bound: KeyBound): Overflow {
  const covered: Frame[] = [];
  const rest: Frame[] = [];
  let bytes = 0;
  for (const frame of frames) {
    if (coveredByReset(frame)) covered.push(frame);
    else {
      rest.push(frame);
      bytes += frame.bytes;
    }
  }
  if (rest.length <= bound.maxKeys && bytes <= bound.maxBytes) return { kept: rest, covered, dropped: [] };
  const lasting = rest.filter((frame) => frame.idempotent);
  // The newest that fit: drop from the oldest end until what is left fits.
  let start = 0;
  bytes = 0;
  for (const frame of lasting) bytes += frame.bytes;
  while (start < lasting.length && (lasting.length - start > bound.maxKeys || bytes > bound.maxBytes)) {
    bytes -= lasting[start]!.bytes;
    start++;
  }
  const kept = lasting.slice(start);
  const keptSet = new Set(kept);
  return { kept, covered, dropped: rest.filter((frame) => !keptSet.has(frame)) };
}
