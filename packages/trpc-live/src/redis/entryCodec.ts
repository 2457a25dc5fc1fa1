import type { PublishRequest, PublishedEntry } from '../core/index.ts';

/** What travels in a stream entry and on the channel (everything but epoch and seq). */
interface WireEntry {
  scope: string;
  topic: string;
  lane: PublishRequest['lane'];
  groups?: PublishRequest['groups'];
  /** `null` for unique signals: the key becomes `#<seq>` once the seq is known. */
  key: string | null;
  signal: PublishRequest['signal'];
  /** Identity (see `PublishedEntry.origin`): the publishing backend and its serial. */
  o?: string;
  n?: number;
}

/** Who published a signal, and its number there: kept by every copy of it (see `PublishedEntry.origin`). */
export interface SignalIdentity {
  readonly origin: string;
  readonly serial: number;
}

/** Channel message that makes every instance reset its clients (history was lost somewhere). */
export const GAP_MESSAGE = '!gap';

/** JSON of a request and its identity, without epoch and seq (Redis assigns those). */
export function encodeRequest(request: PublishRequest, identity: SignalIdentity): string {
  const wire: WireEntry = {
    scope: request.scope,
    topic: request.topic,
    lane: request.lane,
    key: request.key,
    signal: request.signal,
    ...(request.groups ? { groups: request.groups } : {}),
    o: identity.origin,
    n: identity.serial,
  };
  return JSON.stringify(wire);
}

/** The entry a request became at `epoch:seq`. */
export function toEntry(request: PublishRequest, epoch: string, seq: number, identity?: SignalIdentity): PublishedEntry {
  return {
    ...request,
    key: request.key ?? `#${seq}`,
    epoch,
    seq,
    ...(identity ? { origin: identity.origin, serial: identity.serial } : {}),
  };
}

/** Decodes a stored payload; `null` when it is not one of ours. */
export function decodePayload(payload: string, epoch: string, seq: number): PublishedEntry | null {
  let wire: WireEntry;
  try {
    wire = JSON.parse(payload) as WireEntry;
  } catch {
    return null;
  }
  if (!wire || typeof wire.scope !== 'string' || typeof wire.topic !== 'string' || typeof wire.signal !== 'object') {
    return null;
  }
  return toEntry(
    {
      scope: wire.scope,
      topic: wire.topic,
      lane: wire.lane,
      key: wire.key,
      signal: wire.signal,
      ...(wire.groups ? { groups: wire.groups } : {}),
    },
    epoch,
    seq,
    // Entries written before identities existed have none: their epoch:seq is their identity.
    typeof wire.o === 'string' && Number.isSafeInteger(wire.n) ? { origin: wire.o, serial: wire.n! } : undefined,
  );
}

const HEAD_RE = /^([A-Za-z0-9_-]{1,40}):([1-9][0-9]{0,15})$/;

/** Decodes a channel message `<epoch>:<seq>|<payload>`; `null` when malformed. */
export function decodeMessage(message: string): PublishedEntry | null {
  const bar = message.indexOf('|');
  if (bar < 0) return null;
  const head = HEAD_RE.exec(message.slice(0, bar));
  if (!head) return null;
  const seq = Number(head[2]);
  if (!Number.isSafeInteger(seq)) return null;
  return decodePayload(message.slice(bar + 1), head[1]!, seq);
}

/** Seq of a stream entry id `<seq>-0`. */
export function seqOfId(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}
