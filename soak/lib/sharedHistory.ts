/**
 * Where a publish landed in the shared Redis history, read by the harness
 * itself after a run: the record oracle's way to place a receipt that names
 * a local history.
 *
 * With a shared Redis, a publish Redis answers after the 80 ms publish wait
 * resolves with the position its local copy will get, `<origin>-<n>:<serial>`
 * (ARCHITECTURE.md, "Redis faults"), while Redis runs the command after all
 * and the clients get the shared copy at another position. Both copies carry
 * the publish's identity (origin, serial): the local one in its position, the
 * stream entry in its `o` and `n` fields. So the harness reads every stream
 * entry with XRANGE through its own Redis client (not the hub's delivery tap,
 * not the backend's code) and moves such a receipt to the shared copy of its
 * identity, keeping the local position as another copy the publish may arrive
 * at ({@link PublishedEntry.copies}). It also checks that the shared copy is
 * the same call (tenant, topic, kind, and the key the oracle derives from the
 * entry's own payload), so an identity that names the wrong entry cannot
 * place a lost publish on someone else's frame.
 *
 * Nothing is dropped from the comparison: a receipt either stays at its own
 * position, or moves to its shared copy, or is counted as unplaceable (its
 * identity names a different call, or a position another receipt holds),
 * which fails the row.
 */
import { Redis } from 'ioredis';
import { inPublishOrder, replacementKey, type GroupFilter, type Position, type PublishedEntry, type SignalShape } from './oracle';

/** One stream entry of the shared history, as Redis holds it. */
export interface SharedEntry {
  readonly seq: number;
  readonly scope: string;
  readonly topic: string;
  readonly kind: string;
  /** The oracle's replacement key of the entry's own payload ({@link replacementKey}). */
  readonly key: string;
  /** The publish's identity (`o`, `n` fields); absent in an entry without one. */
  readonly origin?: string;
  readonly serial?: number;
}

/** The shared history: its epoch (`<prefix>:epoch`) and every entry of the streams read. */
export interface SharedHistory {
  readonly epoch: string;
  readonly entries: readonly SharedEntry[];
}

/** A receipt's local history: `<origin>-<n>`, whose seqs are the origin's serials (ARCHITECTURE.md, "Redis faults"). */
const LOCAL_EPOCH = /^(.+)-[0-9]+$/;

/** The routing fields of a signal, as the server host records them (soak/lib/serverHost.mjs `shape`). */
function shapeOf(signal: unknown): SignalShape {
  const s = (signal ?? {}) as Record<string, unknown>;
  return {
    kind: String(s.kind),
    ...(s.resource !== undefined ? { resource: String(s.resource) } : {}),
    ...(s.id !== undefined ? { id: String(s.id) } : {}),
    ...(s.key !== undefined ? { key: String(s.key) } : {}),
    ...(s.topic !== undefined ? { topic: String(s.topic) } : {}),
    ...(Array.isArray(s.events) ? { events: s.events.map(shapeOf) } : {}),
  };
}

/**
 * One XRANGE entry (`[id, [field, value, ...]]`, id `<seq>-0`, fields `k`, `d`
 * (the payload: scope, topic, groups, signal), `o`, `n`) as a {@link SharedEntry}
 * of `epoch`; `null` when its payload is not JSON of that shape.
 */
export function parseStreamEntry(epoch: string, id: string, fields: readonly string[]): SharedEntry | null {
  const field = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) field.set(fields[i]!, fields[i + 1]!);
  const seq = Number(id.slice(0, id.indexOf('-')));
  let payload: { scope?: unknown; topic?: unknown; groups?: GroupFilter; signal?: unknown };
  try {
    payload = JSON.parse(field.get('d') ?? '') as typeof payload;
  } catch {
    return null;
  }
  if (!Number.isSafeInteger(seq) || typeof payload?.scope !== 'string' || typeof payload.topic !== 'string' || typeof payload.signal !== 'object') return null;
  const signal = shapeOf(payload.signal);
  const serial = Number(field.get('n'));
  return {
    seq,
    scope: payload.scope,
    topic: payload.topic,
    kind: signal.kind,
    key: replacementKey(signal, payload.topic, payload.groups, epoch, seq),
    ...(field.has('o') && Number.isSafeInteger(serial) ? { origin: field.get('o')!, serial } : {}),
  };
}

/**
 * Reads the shared history of `scopes` from the Redis at `url` (keys
 * `<prefix>:epoch` and `<prefix>:s:<scope>`, the layout ARCHITECTURE.md and
 * the backend's scripts document) with the harness's own connection.
 * Throws when Redis does not answer or an entry cannot be read: a history
 * the harness cannot read places nothing.
 */
export async function readSharedHistory(url: string, prefix: string, scopes: Iterable<string>): Promise<SharedHistory> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  await redis.connect();
  try {
    const epoch = await redis.get(`${prefix}:epoch`);
    if (epoch === null) throw new Error(`Redis holds no shared history under ${prefix}:epoch`);
    const entries: SharedEntry[] = [];
    for (const scope of new Set(scopes)) {
      for (const [id, fields] of await redis.xrange(`${prefix}:s:${scope}`, '-', '+')) {
        const entry = parseStreamEntry(epoch, id, fields);
        if (!entry) throw new Error(`unreadable stream entry ${prefix}:s:${scope} ${id}: ${JSON.stringify(fields).slice(0, 200)}`);
        entries.push(entry);
      }
    }
    return { epoch, entries };
  } finally {
    redis.disconnect();
  }
}

/** What {@link placeByIdentity} did with the record. */
export interface Placement {
  /** The record in publish order, receipts of a local history moved to their shared copy where one was found. */
  readonly entries: PublishedEntry[];
  /** Receipts that named a local history (`<origin>-<n>`). */
  readonly local: number;
  /** ... moved to the shared copy of their identity (the local position kept as another copy). */
  readonly placed: number;
  /** ... whose identity Redis does not hold (never run, or trimmed): judged at their own position only. */
  readonly notShared: number;
  /** ... whose identity names an entry of another call, or a position another receipt holds: unplaceable, a failure. */
  readonly unplaceable: number;
  /** Receipts in neither the shared epoch nor a local history (an epoch Redis no longer holds): judged at their own position. */
  readonly otherEpoch: number;
  /** Identities Redis holds more than one entry of (the backend writes one per identity): a fault, counted. */
  readonly twinEntries: number;
  /** The first unplaceable receipts, for the report. */
  readonly samples: string[];
}

/**
 * Moves each receipt of a local history to the shared copy of its identity
 * (origin from the local epoch `<origin>-<n>`, serial = its seq) when
 * `history` holds one for the same call at a position no other receipt holds.
 * Every other receipt stays as it is; none is dropped.
 */
export function placeByIdentity(record: readonly PublishedEntry[], history: SharedHistory): Placement {
  const byIdentity = new Map<string, SharedEntry[]>();
  let twinEntries = 0;
  for (const entry of history.entries) {
    if (entry.origin === undefined) continue;
    const id = `${entry.origin} ${entry.serial}`;
    const copies = byIdentity.get(id);
    if (copies) {
      copies.push(entry);
      twinEntries++;
    } else byIdentity.set(id, [entry]);
  }
  // Shared positions the record already holds (seqs are global across scopes).
  const held = new Set(record.filter((e) => e.epoch === history.epoch).map((e) => e.seq));
  let local = 0;
  let placed = 0;
  let notShared = 0;
  let unplaceable = 0;
  let otherEpoch = 0;
  const samples: string[] = [];
  const entries = record.map((entry): PublishedEntry => {
    if (entry.epoch === history.epoch) return entry;
    const origin = LOCAL_EPOCH.exec(entry.epoch)?.[1];
    if (origin === undefined) {
      otherEpoch++;
      return entry;
    }
    local++;
    const copies = byIdentity.get(`${origin} ${entry.seq}`);
    if (!copies) {
      notShared++;
      return entry;
    }
    const shared = copies[0]!;
    const sameCall =
      shared.scope === entry.scope && shared.topic === entry.topic && shared.kind === entry.kind && (entry.key.startsWith('#') || shared.key === entry.key);
    if (!sameCall || held.has(shared.seq)) {
      unplaceable++;
      if (samples.length < 5) {
        samples.push(`${entry.epoch}:${entry.seq} (${entry.key}) -> ${history.epoch}:${shared.seq} (${shared.key})${sameCall ? ' held by another receipt' : ''}`);
      }
      return entry;
    }
    held.add(shared.seq);
    placed++;
    const others: Position[] = [{ epoch: entry.epoch, seq: entry.seq }, ...copies.slice(1).map((c) => ({ epoch: history.epoch, seq: c.seq }))];
    return { ...entry, epoch: history.epoch, seq: shared.seq, copies: others };
  });
  return { entries: inPublishOrder(entries), local, placed, notShared, unplaceable, otherEpoch, twinEntries, samples };
}
