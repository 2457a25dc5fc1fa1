/**
 * The soak oracles, written apart from the library on purpose: a bug in the
 * hub's own matcher must not be able to hide itself by being used to check
 * the hub. Topic rules are NATS's (`.` tokens, `*` one token, `>` one or
 * more trailing tokens); group filters match when every attribute matches
 * (an array: any of its values). What was published comes from the
 * harness's own record of the calls made to the hub's API and the receipts
 * they got back (soak/lib/serverHost.mjs), never from the hub's account of
 * what it delivered, so a loss between publish and delivery shows.
 */

/** Reference topic matcher (not the hub's trie or `matchTopic`). */
export function topicMatches(pattern: string, topic: string): boolean {
  const p = pattern.split('.');
  const t = topic.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return t.length > i;
    if (i >= t.length) return false;
    if (p[i] !== '*' && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}

export type Groups = Readonly<Record<string, string>>;
export type GroupFilter = Readonly<Record<string, string | readonly string[]>>;

/** Reference group matcher. */
export function groupsMatch(filter: GroupFilter | undefined, groups: Groups): boolean {
  if (!filter) return true;
  return Object.entries(filter).every(([attribute, want]) => {
    const have = groups[attribute];
    return have !== undefined && (typeof want === 'string' ? want === have : want.includes(have));
  });
}

/** Who a stream is: its tenant, groups and topic bounds. */
export interface StreamView {
  readonly scope: string;
  readonly groups: Groups;
  /** Patterns the stream asked for (`topics` input). @default everything */
  readonly topics?: readonly string[];
  /** Patterns its token allows (`topics` claim). @default everything */
  readonly allowed?: readonly string[];
}

/**
 * True when a signal on `topic` may reach the stream: it must match a pattern
 * the stream asked for AND a pattern its token allows (the server keeps
 * only asked patterns some allowed pattern covers, so any delivery must
 * satisfy both).
 */
export function topicAllowed(view: StreamView, topic: string): boolean {
  const asked = view.topics?.length ? view.topics : null;
  const allowed = view.allowed?.length ? view.allowed : null;
  return (!asked || asked.some((p) => topicMatches(p, topic))) && (!allowed || allowed.some((p) => topicMatches(p, topic)));
}

/** True when a published entry may reach the stream (scope ∩ groups ∩ topics). */
export function inScope(view: StreamView, entry: { scope: string; topic: string; groups?: GroupFilter }): boolean {
  return entry.scope === view.scope && groupsMatch(entry.groups, view.groups) && topicAllowed(view, entry.topic);
}

/**
 * A signal's routing fields as the harness saw them in the call it made (or
 * the app made) to the hub's API: enough to route it and to tell which
 * signals replace each other, without the hint.
 */
export interface SignalShape {
  readonly kind: string;
  readonly resource?: string;
  readonly id?: string;
  readonly key?: string;
  readonly topic?: string;
  readonly events?: readonly SignalShape[];
}

/** One publish as the server host recorded it at the hub's API: the call's arguments and the receipt it got back. */
export interface RawPublish {
  readonly seq: number;
  readonly epoch: string;
  readonly scope: string;
  /** `options.topic` of the call, when it named one. */
  readonly topic?: string;
  readonly groups?: GroupFilter;
  readonly signal: SignalShape;
}

/**
 * One publish the harness recorded, in the terms the oracles judge by: where
 * it landed (receipt), who may receive it (scope, topic, groups) and which
 * publishes it replaces (`key`).
 */
export interface PublishedEntry {
  readonly seq: number;
  readonly epoch: string;
  readonly scope: string;
  readonly topic: string;
  /**
   * Publishes with the same key replace each other: only the latest must
   * arrive (replay and a slow client's outbox may skip older ones). Events
   * and batches are never replaced: their key is unique.
   */
  readonly key: string;
  readonly kind: string;
  readonly groups?: GroupFilter;
  /**
   * Other positions the same publish (one identity) may arrive at. With a
   * shared Redis, a publish Redis answers after the 80 ms publish wait
   * resolves with the position of its local copy (ARCHITECTURE.md, Redis
   * faults) while clients get its copy in the shared history: the harness
   * places such a receipt at the shared copy it finds in Redis itself
   * (soak/lib/sharedHistory.ts) and keeps the local position here. A client
   * must get the publish at one of its positions; at two, it got it twice.
   */
  readonly copies?: readonly Position[];
}

/**
 * The topic a publish travels on when the call names none, as DESIGN.md
 * documents it: an invalidation's resource, the key of progress and of a
 * completion, an event's topic; a batch its events' common topic, else `batch`.
 */
export function defaultTopicOf(signal: SignalShape): string {
  switch (signal.kind) {
    case 'invalidate':
      return String(signal.resource);
    case 'progress':
    case 'complete':
      return String(signal.key);
    case 'event':
      return String(signal.topic);
    case 'batch': {
      const topics = new Set((signal.events ?? []).map(defaultTopicOf));
      return topics.size === 1 ? [...topics][0]! : 'batch';
    }
    default:
      return `?${signal.kind}`;
  }
}

/** A group filter written the same whatever the order of its attributes and list values. */
function audience(groups: GroupFilter | undefined): string {
  if (!groups) return '';
  return JSON.stringify(
    Object.keys(groups)
      .sort()
      .map((attribute) => {
        const want = groups[attribute]!;
        return [attribute, typeof want === 'string' ? want : [...want].sort()];
      }),
  );
}

/**
 * Which publishes replace each other for a client (the documented rule, not
 * the hub's code): invalidations of the same resource and id, progress or
 * completion of the same job, on the same topic and for the same audience.
 * Anything else stands alone.
 */
export function replacementKey(signal: SignalShape, topic: string, groups: GroupFilter | undefined, epoch: string, seq: number): string {
  const where = `${topic} ${audience(groups)}`;
  switch (signal.kind) {
    case 'invalidate':
      return `${where} invalidate ${signal.resource}${signal.id === undefined ? '' : ` ${signal.id}`}`;
    case 'progress':
    case 'complete':
      return `${where} ${signal.kind} ${signal.key}`;
    default:
      return `#${epoch}:${seq}`;
  }
}

/** A recorded call as the oracles judge it. */
export function toPublished(raw: RawPublish): PublishedEntry {
  const topic = raw.topic ?? defaultTopicOf(raw.signal);
  return {
    seq: raw.seq,
    epoch: raw.epoch,
    scope: raw.scope,
    topic,
    key: replacementKey(raw.signal, topic, raw.groups, raw.epoch, raw.seq),
    kind: raw.signal.kind,
    ...(raw.groups ? { groups: raw.groups } : {}),
  };
}

/**
 * The record in publish order: epochs in the order they first appear (a
 * server, then its successor), by sequence within each. Receipts of
 * concurrent publishes come back in any order.
 */
export function inPublishOrder(entries: readonly PublishedEntry[]): PublishedEntry[] {
  const epochs = new Map<string, number>();
  for (const entry of entries) if (!epochs.has(entry.epoch)) epochs.set(entry.epoch, epochs.size);
  return [...entries].sort((a, b) => epochs.get(a.epoch)! - epochs.get(b.epoch)! || a.seq - b.seq);
}

/** A growable bit set of sequence numbers. */
export class SeqSet {
  private bits = new Uint32Array(1024);
  size = 0;

  /** Adds `seq`; false when it was already there. */
  add(seq: number): boolean {
    if (!(seq >= 0) || !Number.isInteger(seq)) return true;
    const word = seq >>> 5;
    if (word >= this.bits.length) {
      const grown = new Uint32Array(Math.max(word + 1, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (seq & 31);
    if (this.bits[word]! & mask) return false;
    this.bits[word]! |= mask;
    this.size++;
    return true;
  }

  has(seq: number): boolean {
    const word = seq >>> 5;
    return word < this.bits.length && (this.bits[word]! & (1 << (seq & 31))) !== 0;
  }

  /** Every member, ascending. */
  *values(): IterableIterator<number> {
    for (let word = 0; word < this.bits.length; word++) {
      let bits = this.bits[word]!;
      while (bits) {
        const low = bits & -bits;
        yield word * 32 + 31 - Math.clz32(low);
        bits ^= low;
      }
    }
  }
}

/** Where a stream's window starts or ends: a position in one server's history. */
export interface Position {
  readonly epoch: string;
  readonly seq: number;
}

/** What a client saw, for the record oracle. */
export interface ReceivedView {
  /** The data frame `seq` of `epoch` arrived (live or replayed). */
  has(epoch: string, seq: number): boolean;
  /**
   * A `reset` the client received covers it: one at or after it in the same
   * epoch, or any reset in an epoch it met later (a restarted server: its
   * reset came after everything the old one published).
   */
  resetCovers(epoch: string, seq: number): boolean;
  /** Where its window opened: the head its first hello named (it was new, without a cursor). @default the start of the record */
  readonly start?: Position;
  /** Data frames that arrived more than once. */
  readonly duplicates: number;
  /** Data frames received, by epoch. */
  dataSeqs(): Iterable<[string, Iterable<number>]>;
}

/** A publish the client may receive, within its window, that neither arrived nor was covered. */
export interface Loss {
  readonly key: string;
  readonly epoch: string;
  readonly seq: number;
}

/** The record oracle's verdict on one client. */
export interface RecordVerdict {
  /** Recorded publishes the client may receive within its window. */
  readonly expected: number;
  /** ... of which arrived. */
  readonly received: number;
  /** ... of which a reset the client received covers. */
  readonly byReset: number;
  /** ... of which a later publish of the same key arrived or was covered (replay and outbox keep the latest). */
  readonly replaced: number;
  /** ... of which neither: losses. */
  readonly lost: Loss[];
  /** Data frames that arrived twice or more, and publishes that arrived at two of their positions ({@link PublishedEntry.copies}). */
  readonly duplicates: number;
  /** Data frames up to the window's end that the record does not hold for this client (a leak, a frame older than its window, or a publish nobody recorded). */
  readonly unexpected: number;
}

/**
 * The record oracle: the publishes the harness recorded (in publish order),
 * against what one client received. Expected: every recorded publish its
 * tenant, groups and topics select, after its window opened (`received.start`)
 * and, when given, up to `until`. Each must have arrived, or be covered by a
 * reset the client received, or be replaced by a later publish of its key that
 * arrived or was covered; anything else is lost. A publish with
 * {@link PublishedEntry.copies} counts as arrived at any one of its
 * positions, and twice when it arrived at two. Duplicates and frames the
 * record does not account for are counted too.
 */
export function compareWithRecord(
  record: readonly PublishedEntry[],
  view: StreamView,
  received: ReceivedView,
  until?: Position,
): RecordVerdict {
  const epochs: string[] = [];
  for (const entry of record) if (!epochs.includes(entry.epoch)) epochs.push(entry.epoch);
  const order = (epoch: string) => epochs.indexOf(epoch);
  const start = received.start;
  const afterStart = (epoch: string, seq: number) =>
    !start || order(start.epoch) === -1 || (order(epoch) >= order(start.epoch) && !(epoch === start.epoch && seq <= start.seq));
  const beforeEnd = (epoch: string, seq: number) => !until || (order(epoch) <= order(until.epoch) && !(epoch === until.epoch && seq > until.seq));
  const inWindow = (epoch: string, seq: number) => afterStart(epoch, seq) && beforeEnd(epoch, seq);
  const expected = record.filter((entry) => inWindow(entry.epoch, entry.seq) && inScope(view, entry));
  const wanted = new Map<string, Set<number>>();
  for (const entry of expected) {
    for (const at of positionsOf(entry)) {
      let seqs = wanted.get(at.epoch);
      if (!seqs) wanted.set(at.epoch, (seqs = new Set()));
      seqs.add(at.seq);
    }
  }
  let got = 0;
  let byReset = 0;
  let replaced = 0;
  // A publish that arrived at two of its positions (its local copy and its shared copy) arrived twice.
  let twice = 0;
  const lost: Loss[] = [];
  const coveredKeys = new Set<string>();
  for (let i = expected.length - 1; i >= 0; i--) {
    const entry = expected[i]!;
    const arrivals = entry.copies ? positionsOf(entry).filter((at) => received.has(at.epoch, at.seq)).length : +received.has(entry.epoch, entry.seq);
    if (arrivals) {
      got++;
      twice += arrivals - 1;
      coveredKeys.add(entry.key);
    } else if (positionsOf(entry).some((at) => received.resetCovers(at.epoch, at.seq))) {
      byReset++;
      coveredKeys.add(entry.key);
    } else if (coveredKeys.has(entry.key)) replaced++;
    else lost.push({ key: entry.key, epoch: entry.epoch, seq: entry.seq });
  }
  let unexpected = 0;
  // Frames after the window closed may legitimately arrive; frames from before it opened may not (a new stream gets nothing older than its head).
  for (const [epoch, seqs] of received.dataSeqs()) {
    for (const seq of seqs) if (beforeEnd(epoch, seq) && !wanted.get(epoch)?.has(seq)) unexpected++;
  }
  return { expected: expected.length, received: got, byReset, replaced, lost: lost.reverse(), duplicates: received.duplicates + twice, unexpected };
}

/** Every position a recorded publish may arrive at: its receipt's (or, placed, its shared copy's) and its other copies'. */
function positionsOf(entry: PublishedEntry): readonly Position[] {
  return entry.copies ? [entry, ...entry.copies] : [entry];
}

/** What one stream received, by epoch: the {@link ReceivedView} of the client processes. */
export class ReceivedLog implements ReceivedView {
  private readonly data = new Map<string, SeqSet>();
  private readonly resets = new Map<string, number>();
  /** Epochs in the order the stream met them (its hellos). */
  private readonly epochs: string[] = [];
  start?: Position;
  duplicates = 0;

  meet(epoch: string): void {
    if (!this.epochs.includes(epoch)) this.epochs.push(epoch);
  }

  /** The window opens at the head a new stream's first hello named; later calls change nothing. */
  open(epoch: string, seq: number): void {
    this.meet(epoch);
    this.start ??= { epoch, seq };
  }

  addData(epoch: string, seq: number): void {
    this.meet(epoch);
    let set = this.data.get(epoch);
    if (!set) this.data.set(epoch, (set = new SeqSet()));
    if (!set.add(seq)) this.duplicates++;
  }

  addReset(epoch: string, seq: number): void {
    this.meet(epoch);
    this.resets.set(epoch, Math.max(this.resets.get(epoch) ?? -1, seq));
  }

  has(epoch: string, seq: number): boolean {
    return this.data.get(epoch)?.has(seq) ?? false;
  }

  resetCovers(epoch: string, seq: number): boolean {
    if ((this.resets.get(epoch) ?? -1) >= seq) return true;
    const i = this.epochs.indexOf(epoch);
    if (i === -1) return false;
    return this.epochs.slice(i + 1).some((later) => this.resets.has(later));
  }

  *dataSeqs(): IterableIterator<[string, Iterable<number>]> {
    for (const [epoch, set] of this.data) yield [epoch, set.values()];
  }
}
