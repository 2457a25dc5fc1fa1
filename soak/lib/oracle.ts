/**
 * The soak oracles, written apart from the library on purpose: a bug in the
 * hub's own matcher must not be able to hide itself by being used to check
 * the hub. Topic rules are NATS's (`.` tokens, `*` one token, `>` one or
 * more trailing tokens); group filters match when every attribute matches
 * (an array: any of its values).
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

/** One entry the hub delivered, as the server host's tap records it. */
export interface TappedEntry {
  readonly seq: number;
  readonly epoch: string;
  readonly scope: string;
  readonly topic: string;
  /** Compaction key, or `#seq` for events (each its own key). */
  readonly key: string;
  readonly kind: string;
  readonly groups?: GroupFilter;
}

/** A growable bit set of sequence numbers. */
export class SeqSet {
  private bits = new Uint32Array(1024);
  size = 0;

  add(seq: number): void {
    if (!(seq >= 0) || !Number.isInteger(seq)) return;
    const word = seq >>> 5;
    if (word >= this.bits.length) {
      const grown = new Uint32Array(Math.max(word + 1, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (seq & 31);
    if (!(this.bits[word]! & mask)) {
      this.bits[word]! |= mask;
      this.size++;
    }
  }

  has(seq: number): boolean {
    const word = seq >>> 5;
    return word < this.bits.length && (this.bits[word]! & (1 << (seq & 31))) !== 0;
  }
}

/** What a client saw, for the coverage oracle. */
export interface ReceivedView {
  /**
   * True when the client received the data frame `seq` of `epoch` (live or
   * replayed), or a `reset` that covers it: one at or after it in the same
   * epoch, or any reset in an epoch it met later (a restarted server: its
   * reset came after everything the old one published).
   */
  covers(epoch: string, seq: number): boolean;
}

/** A key the client neither received the last signal of nor got a reset after. */
export interface Gap {
  readonly key: string;
  readonly epoch: string;
  readonly lastSeq: number;
}

/**
 * The convergence oracle: for every key of every entry that could reach the
 * stream (published after `afterSeq`), the stream must have received the
 * key's LAST signal, or a `reset` after it (a reset makes the client refetch
 * everything). `entries` are in publish order (one server's tap is; the taps
 * of a server and of its successor are concatenated). Returns the keys that fail.
 */
export function coverageGaps(
  entries: readonly TappedEntry[],
  view: StreamView,
  received: ReceivedView,
  afterSeq = 0,
): { keys: number; gaps: Gap[] } {
  const last = new Map<string, TappedEntry>();
  for (const entry of entries) {
    if (entry.seq <= afterSeq || !inScope(view, entry)) continue;
    last.set(entry.key, entry);
  }
  const gaps: Gap[] = [];
  for (const [key, entry] of last) {
    if (received.covers(entry.epoch, entry.seq)) continue;
    gaps.push({ key, epoch: entry.epoch, lastSeq: entry.seq });
  }
  return { keys: last.size, gaps };
}

/** What one stream received, by epoch: the {@link ReceivedView} of the client processes. */
export class ReceivedLog implements ReceivedView {
  private readonly data = new Map<string, SeqSet>();
  private readonly resets = new Map<string, number>();
  /** Epochs in the order the stream met them (its hellos). */
  private readonly epochs: string[] = [];

  meet(epoch: string): void {
    if (!this.epochs.includes(epoch)) this.epochs.push(epoch);
  }

  addData(epoch: string, seq: number): void {
    this.meet(epoch);
    let set = this.data.get(epoch);
    if (!set) this.data.set(epoch, (set = new SeqSet()));
    set.add(seq);
  }

  addReset(epoch: string, seq: number): void {
    this.meet(epoch);
    this.resets.set(epoch, Math.max(this.resets.get(epoch) ?? -1, seq));
  }

  covers(epoch: string, seq: number): boolean {
    if (this.data.get(epoch)?.has(seq)) return true;
    if ((this.resets.get(epoch) ?? -1) >= seq) return true;
    const i = this.epochs.indexOf(epoch);
    if (i === -1) return false;
    return this.epochs.slice(i + 1).some((later) => this.resets.has(later));
  }
}
