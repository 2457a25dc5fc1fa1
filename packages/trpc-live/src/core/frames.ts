import type { PublishedEntry } from './backend.ts';
import { formatCursor } from '../shared/cursor.ts';
import { isIdempotent } from './signal.ts';
import type { LiveControlMessage, LiveDataMessage, LiveMessage, LivePushMessage, ResetReason } from '../shared/messages.ts';
import type { Frame } from './sink.ts';

/** Builds the frames a hub writes; every message is serialized once. */
export interface FrameFactory {
  /** The entry's frame, encoded once and cached on the entry (shared by every recipient). */
  data(entry: PublishedEntry): Frame;
  /** A reset at `seq` of `epoch`: the client refetches everything and resumes from there. */
  reset(reason: ResetReason, epoch: string, seq: number): Frame;
  /** A control frame: never replayable, so it carries no cursor. */
  control(message: LiveControlMessage, epoch: string): Frame;
  /**
   * The hello of a stream that connects without a cursor: it carries the
   * head (`epoch:seq`) as its cursor, the position the stream is complete
   * from (registration and the head are read in one step). So a stream cut
   * before its first signal still resumes without a gap.
   */
  start(message: LiveControlMessage, epoch: string, seq: number): Frame;
  /**
   * A pushed result or refetch order (see {@link pushKey}): encoded once and
   * shared by every recipient, never replayable (no cursor), on the instant
   * lane. Its `seq` is the change it reflects, so within a write it follows
   * that change's invalidation; it never moves a stream's watermark.
   * `publishedAt`: when the oldest change it reflects was delivered
   * (@default now, the frame's build).
   */
  push(message: LivePushMessage, publishedAt?: number): Frame;
}

/**
 * The outbox key of a watch's pushed frames: a newer result or refetch of one
 * watch replaces a pending older one (at most one per watch waits). Data keys
 * are `<topic>|…` and topics hold no space, so this never meets one.
 */
export const pushKey = (watch: string): string => `push ${watch}`;

/** True for a pushed result, delta or refetch frame (see {@link FrameFactory.push}). */
export const isPushFrame = (frame: Frame): boolean =>
  frame.message.kind === 'result' || frame.message.kind === 'delta' || frame.message.kind === 'refetch';

/** Stands in for the connection id in the hello template: plain letters, which no serializer escapes. */
const HELLO_MARK = 'zzHelloConnectionIdzz';
/** Connection ids the hello template may hold: characters JSON-like serializers write as they are. */
const PLAIN_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * The hello's payload, from a template serialized once per epoch: every
 * stream gets one (`{ kind, connectionId, epoch }`), and serializing it for
 * each was ~0.015 ms of a reconnect's server CPU (superjson; profile of a
 * 3,000-stream storm, 2026-12-07). Serializes as before when the id is not
 * plain or the template does not hold the mark exactly once.
 */
function helloPayloads(serialize: (message: LiveMessage) => string): (message: LiveMessage) => string {
  let template: { before: string; after: string } | null = null;
  let templateEpoch: string | null = null;
  return (message) => {
    if (message.kind !== 'hello' || !PLAIN_ID.test(message.connectionId)) return serialize(message);
    if (templateEpoch !== message.epoch) {
      templateEpoch = message.epoch;
      const text = serialize({ kind: 'hello', connectionId: HELLO_MARK, epoch: message.epoch });
      const at = text.indexOf(HELLO_MARK);
      template =
        at !== -1 && text.indexOf(HELLO_MARK, at + 1) === -1
          ? { before: text.slice(0, at), after: text.slice(at + HELLO_MARK.length) }
          : null;
    }
    return template ? template.before + message.connectionId + template.after : serialize(message);
  };
}

/** Creates a {@link FrameFactory} over a serializer and a clock. */
export function createFrameFactory(serialize: (message: LiveMessage) => string, now: () => number): FrameFactory {
  const build = (fields: Omit<Frame, 'payload' | 'bytes' | 'publishedAt'>, encode = serialize, publishedAt?: number): Frame => {
    const payload = encode(fields.message);
    return { ...fields, payload, bytes: payload.length, publishedAt: publishedAt ?? now() };
  };
  const hello = helloPayloads(serialize);
  return {
    data(entry) {
      if (entry.frame) return entry.frame;
      const frame = build(
        {
          seq: entry.seq,
          epoch: entry.epoch,
          id: formatCursor(entry.epoch, entry.seq),
          key: entry.key,
          topic: entry.topic,
          lane: entry.lane,
          message: { ...entry.signal, seq: entry.seq } as LiveDataMessage,
          idempotent: isIdempotent(entry.signal),
          ...(entry.origin !== undefined && entry.serial !== undefined ? { origin: entry.origin, serial: entry.serial } : {}),
        },
        serialize,
        entry.deliveredAt,
      );
      entry.frame = frame;
      return frame;
    },
    reset(reason, epoch, seq) {
      return build({
        seq,
        epoch,
        id: formatCursor(epoch, seq),
        key: 'reset',
        topic: 'reset',
        lane: 'instant',
        message: { kind: 'reset', reason, seq },
        idempotent: true,
      });
    },
    start(message, epoch, seq) {
      return build({ seq, epoch, id: formatCursor(epoch, seq), key: 'control', topic: 'control', lane: 'instant', message, idempotent: false }, hello);
    },
    push(message, publishedAt) {
      return build(
        { seq: message.seq, epoch: message.epoch, id: null, key: pushKey(message.watch), topic: 'push', lane: 'instant', message, idempotent: false },
        serialize,
        publishedAt,
      );
    },
    control(message, epoch) {
      return build({ seq: 0, epoch, id: null, key: 'control', topic: 'control', lane: 'instant', message, idempotent: false }, hello);
    },
  };
}
