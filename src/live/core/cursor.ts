import { LiveError } from './errors';

/**
 * A position in a hub's history. `epoch` names one unbroken history (it
 * changes when history is lost, e.g. an in-memory hub restarts); `seq` grows
 * by one per published signal within the epoch.
 */
export interface Cursor {
  readonly epoch: string;
  readonly seq: number;
}

const EPOCH_RE = /^[A-Za-z0-9_-]{1,40}$/;
const CURSOR_RE = /^([A-Za-z0-9_-]{1,40}):(0|[1-9][0-9]{0,15})$/;

/** Longest string {@link parseCursor} accepts. */
export const MAX_CURSOR_LENGTH = 57;

/** Formats a cursor as `epoch:seq`, the `id:` of every replayable SSE frame. */
export function formatCursor(epoch: string, seq: number): string {
  return `${epoch}:${seq}`;
}

/**
 * Parses `epoch:seq`. Returns `null` for anything malformed, so callers can
 * decide between a `reset` (reconnects) and BAD_REQUEST (user input).
 */
export function parseCursor(value: string): Cursor | null {
  if (value.length > MAX_CURSOR_LENGTH) return null;
  const match = CURSOR_RE.exec(value);
  if (!match) return null;
  const seq = Number(match[2]);
  if (!Number.isSafeInteger(seq)) return null;
  return { epoch: match[1]!, seq };
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
