import { LiveError } from './errors.ts';

/**
 * A position in a hub's history, as a client holds it. `epoch` names one
 * unbroken history (it changes when history is lost, e.g. an in-memory hub
 * restarts); seqs grow by one per published signal within the epoch.
 *
 * `seq` is the contiguous watermark: every frame the stream should get with a
 * seq up to it was written (or superseded by a newer value of its key, or
 * covered by a reset). `beyond` lists the seqs above it already written,
 * ascending: lanes let frames overtake older ones still pending, and a resume
 * must neither resend those nor skip the pending ones.
 */
export interface Cursor {
  /** The history this position belongs to. */
  readonly epoch: string;
  /** The contiguous watermark within that history (see above). */
  readonly seq: number;
  /** Seqs above `seq` already written, ascending (at most {@link MAX_CURSOR_BEYOND}). */
  readonly beyond: readonly number[];
}

/**
 * Most seqs a cursor lists beyond its watermark. A connection about to write
 * past it flushes its older pending lanes early, which moves the watermark up
 * and empties the list, so ids stay short: 16 keeps an id under 330 bytes
 * while an import's progress (one coalesced frame) is overtaken by a burst of
 * instant frames; the 17th is written together with everything pending.
 */
export const MAX_CURSOR_BEYOND = 16;

const EPOCH_RE = /^[A-Za-z0-9_-]{1,40}$/;
/** A seq or a delta: a decimal without leading zeros, at most 16 digits. */
const NUMBER = '(?:0|[1-9][0-9]{0,15})';
const CURSOR_RE = new RegExp(`^([A-Za-z0-9_-]{1,40}):(${NUMBER})((?:\\.[1-9][0-9]{0,15}){0,${MAX_CURSOR_BEYOND}})$`);

/** Longest string {@link parseCursor} accepts (epoch, watermark, and {@link MAX_CURSOR_BEYOND} deltas of 16 digits). */
export const MAX_CURSOR_LENGTH = 40 + 1 + 16 + MAX_CURSOR_BEYOND * 17;

/**
 * Formats a cursor: `epoch:seq` (the SSE `id:` of a frame written in order,
 * identical for every recipient), or `epoch:seq.d1.d2…` when seqs beyond the
 * watermark were written, each as its distance from the previous one (from
 * `seq` for the first). Only `[A-Za-z0-9_-:.]`: safe in an `id:` line, a
 * `Last-Event-ID` header, a URL and JSON without escaping.
 */
export function formatCursor(epoch: string, seq: number, beyond: readonly number[] = []): string {
  let id = `${epoch}:${seq}`;
  let previous = seq;
  for (const extra of beyond) {
    id += `.${extra - previous}`;
    previous = extra;
  }
  return id;
}

/**
 * Parses what {@link formatCursor} writes. Returns `null` for anything
 * malformed (the hub answers it with a reset), including more than
 * {@link MAX_CURSOR_BEYOND} extras or a seq past 2^53.
 */
export function parseCursor(value: string): Cursor | null {
  if (typeof value !== 'string' || value.length > MAX_CURSOR_LENGTH) return null;
  const match = CURSOR_RE.exec(value);
  if (!match) return null;
  const seq = Number(match[2]);
  if (!Number.isSafeInteger(seq)) return null;
  const beyond: number[] = [];
  if (match[3]) {
    let previous = seq;
    for (const delta of match[3].slice(1).split('.')) {
      previous += Number(delta);
      if (!Number.isSafeInteger(previous)) return null;
      beyond.push(previous);
    }
  }
  return { epoch: match[1]!, seq, beyond };
}

/** Throws BAD_OPTIONS unless `epoch` can be embedded in a cursor. */
export function assertEpoch(epoch: string): void {
  if (!EPOCH_RE.test(epoch)) {
    throw new LiveError('BAD_OPTIONS', `Invalid epoch "${epoch.slice(0, 60)}": use 1-40 characters of [A-Za-z0-9_-]`);
  }
}

/** A fresh epoch: time-ordered prefix plus randomness, unique across restarts. */
export function newEpoch(now: number, random: () => number = Math.random): string {
  const rand = Math.floor(random() * 36 ** 6).toString(36).padStart(6, '0');
  return `${now.toString(36)}${rand}`;
}
