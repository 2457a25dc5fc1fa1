import type { AppliedChange, LiveWatchRequest } from '../client/index.ts';
import type { WatchResponse } from '../shared/watches.ts';
import type { LiveDeltaMessage, LiveMessage, LiveResultMessage } from '../shared/messages.ts';
import type { ChannelLike } from './tabEnvironment.ts';

/** What the tabs sharing a stream tell each other; `from` is the sender's tab id. */
export type Envelope =
  /** A tab joined (or came back from the back/forward cache): the leader counts it. */
  | { type: 'hello'; from: string; visible: boolean }
  /** The sender holds the stream. */
  | { type: 'leader'; from: string }
  /** A new leader asks every tab for its visibility. */
  | { type: 'census'; from: string }
  | { type: 'visibility'; from: string; visible: boolean }
  /** The sender's page is going away. */
  | { type: 'bye'; from: string }
  /**
   * The leader's view of the stream, for the followers' status, with the
   * connection its stream runs on (a tab that joined after the stream's
   * hello sends its watches for it).
   */
  | { type: 'status'; from: string; tabs: number; paused: boolean; connected: boolean; connection?: StreamConnection | null }
  /** A message the leader's stream delivered, with the invalidator's cursor after it. */
  | { type: 'signal'; from: string; message: LiveMessage; cursor: string | null }
  /**
   * A pushed result (whole or a delta) the leader's stream delivered, sent
   * only to the tabs holding its watch (see {@link TabChannel.sendTo}).
   * No cursor: a result frame has no SSE id of its own.
   */
  | { type: 'pushed'; from: string; to?: string; message: LiveResultMessage | LiveDeltaMessage }
  /**
   * A follower's watch request (its WatchSync's adds and removes) for the
   * shared connection: the leader folds it into the browser's one request
   * (WatchUnion) and answers with `watched`.
   */
  | { type: 'watch'; from: string; id: number; request: LiveWatchRequest }
  /** The leader's answer to watch request `id` of tab `to` (`null`: it failed; the follower sends it again later). */
  | { type: 'watched'; from: string; to: string; id: number; response: WatchResponse | null }
  /** A follower's server render read the hub at `cursor`: what changed since? */
  | { type: 'since'; from: string; cursor: string }
  /** The leader's answer to `since` for tab `to` (`null`: it cannot tell). */
  | { type: 'catchup'; from: string; to: string; changes: AppliedChange[] | null }
  /**
   * Several relayed envelopes (`signal`, `pushed`) a tab sent on one channel
   * within one task, in order, as one message (see {@link TabChannel.send}).
   */
  | { type: 'bundle'; from: string; envelopes: Envelope[] };

/** The stream's connection on the server, from its hello. */
export interface StreamConnection {
  readonly connectionId: string;
  readonly epoch: string;
}

type WithoutFrom<E> = E extends unknown ? Omit<E, 'from'> : never;

/** An envelope as a role writes it: the channel signs it with its tab id. */
export type EnvelopeBody = WithoutFrom<Envelope>;

/** Runs `fn` after the current task: where the relayed envelopes of one task are posted. */
export type AfterTask = (fn: () => void) => void;

/** Node's `setImmediate` (after the task's I/O callbacks), else a zero-delay timer (browsers). */
const afterTask: AfterTask =
  typeof setImmediate === 'function' ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0);

/** The envelopes relayed from the stream: sent in bundles, one message per channel and task. */
const relayed = (body: EnvelopeBody): boolean => body.type === 'signal' || body.type === 'pushed';

const randomId = () => Math.random().toString(36).slice(2, 10) + Date.now().toString(36);

/**
 * Opens the inbox channel of the tab `tabId` (a BroadcastChannel whose name
 * is the shared channel's plus the tab id): only that tab listens on it.
 */
export type OpenInbox = (tabId: string) => ChannelLike;

/**
 * This tab's end of the `BroadcastChannel` the tabs sharing a stream talk on,
 * and of its own inbox: a second channel, named after its tab id, for what
 * is meant for it alone.
 *
 * Why an inbox: a browser structured-clones a BroadcastChannel message into
 * every other tab on the channel, and each tab deserializes it to read even
 * its `to`. A pushed result is a whole query result (a 50-row list is ~13 KB
 * of objects with Dates), and most tabs do not hold that query. Measured
 * with Node's BroadcastChannel (which clones per receiver as browsers do),
 * 6 tabs, a 50-row result: one broadcast to 5 tabs 190-235 us of CPU; the
 * inbox of 1 tab 52-66 us, 2 tabs 103-129 us, all 5 tabs 287-307 us (each
 * post serializes once more); a broadcast whose body is a JSON string only
 * the addressee parses 145-200 us (every tab still copies the string). For
 * a delta (~400 characters): broadcast 12-31 us, inbox of 1 tab 4-6 us.
 *
 * Why bundles: one change usually brings the leader several frames at once
 * (an order created: an invalidation per key, then a result or delta per
 * watched query), and each post costs every receiving tab a message event
 * on top of the clone. Relayed envelopes (`signal`, `pushed`) are queued per
 * channel and posted once the task that relayed them ends, one message per
 * channel: alone as before, else as a `bundle` the receiver unpacks in
 * order. Any other envelope is posted at once, after what is queued on its
 * channel, so each channel still delivers in the order sent (a `watched`
 * answer stays behind the relay before it; a `bye` on `pagehide` is not
 * left waiting). Measured in the article benchmark's (d) heavy phase (100
 * simulated browsers of 6 tabs, 2 processes): per task and channel, 2.4
 * shared-channel posts and 1.5 inbox posts on average (12-13% of the
 * simulated browsers' CPU was in these posts and their message events).
 */
export class TabChannel {
  /** This tab's id on the channel (random per page load). */
  readonly tabId = randomId();
  private channel: ChannelLike | null;
  private inbox: ChannelLike | null = null;
  /** Other tabs' inboxes this tab sends to, opened on first use (closed by {@link forget}). */
  private readonly outboxes = new Map<string, ChannelLike>();
  /** Relayed envelopes waiting for the end of the task, per channel, in the order sent. */
  private readonly queued = new Map<ChannelLike, Envelope[]>();
  private flushScheduled = false;

  /**
   * Joins `channel`, and opens this tab's inbox with `openInbox`; `onEnvelope`
   * hears every other tab's envelope on either (never this tab's own, nor one
   * addressed to another tab). Without `openInbox`, envelopes for one tab go
   * on the shared channel with a `to` (every tab receives them; the others
   * drop them).
   */
  constructor(
    channel: ChannelLike,
    onEnvelope: (envelope: Envelope) => void,
    private readonly openInbox?: OpenInbox,
    /** Where queued relays are posted. @default setImmediate, else setTimeout(0) */
    private readonly schedule: AfterTask = afterTask,
  ) {
    this.channel = channel;
    const accept = (envelope: (Envelope & { to?: string }) | null) => {
      if (!envelope || envelope.from === this.tabId) return;
      if (envelope.to !== undefined && envelope.to !== this.tabId) return;
      onEnvelope(envelope);
    };
    const hear = (event: { data: unknown }) => {
      const envelope = event.data as Envelope | null;
      if (envelope?.type !== 'bundle') {
        accept(envelope);
        return;
      }
      if (envelope.from === this.tabId) return;
      // One handler's throw must not lose the rest, as when each was its own message event.
      for (const inner of envelope.envelopes) {
        try {
          accept(inner);
        } catch (error) {
          setTimeout(() => {
            throw error;
          }, 0);
        }
      }
    };
    channel.onmessage = hear;
    if (openInbox) {
      this.inbox = openInbox(this.tabId);
      this.inbox.onmessage = hear;
    }
  }

  /**
   * Tells the other tabs; nothing once closed. A relayed envelope (`signal`,
   * `pushed`) is posted when the current task ends, with the others relayed
   * in it; any other is posted now, after those queued on the channel.
   */
  send(body: EnvelopeBody): void {
    if (this.channel) this.post(this.channel, { ...body, from: this.tabId } as Envelope);
  }

  /**
   * Tells the tab `to` alone, on its inbox (without inboxes: on the shared
   * channel, addressed), when {@link send} would. Nothing once closed; a tab
   * that has gone simply does not hear it.
   */
  sendTo(to: string, body: EnvelopeBody): void {
    if (!this.channel) return;
    if (!this.openInbox) {
      this.post(this.channel, { ...body, to, from: this.tabId } as Envelope);
      return;
    }
    let outbox = this.outboxes.get(to);
    if (!outbox) {
      try {
        outbox = this.openInbox(to);
      } catch {
        // No channel to open (page going away): nothing to tell.
        return;
      }
      this.outboxes.set(to, outbox);
    }
    this.post(outbox, { ...body, from: this.tabId } as Envelope);
  }

  /** Posts everything queued now (tests; {@link close} and {@link forget} do it themselves). */
  flush(): void {
    this.flushScheduled = false;
    for (const target of [...this.queued.keys()]) this.flushTo(target);
  }

  /** The tab `tabId` left: closes this tab's end of its inbox (opened again if sent to later). */
  forget(tabId: string): void {
    const outbox = this.outboxes.get(tabId);
    if (!outbox) return;
    this.flushTo(outbox);
    outbox.close();
    this.outboxes.delete(tabId);
  }

  /** Posts what is queued, then leaves the channel and closes the inboxes. Idempotent. */
  close(): void {
    this.flush();
    this.channel?.close();
    this.channel = null;
    this.inbox?.close();
    this.inbox = null;
    for (const outbox of this.outboxes.values()) outbox.close();
    this.outboxes.clear();
  }

  private post(target: ChannelLike, envelope: Envelope): void {
    if (relayed(envelope)) {
      const queue = this.queued.get(target);
      if (queue) queue.push(envelope);
      else this.queued.set(target, [envelope]);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        this.schedule(() => this.flushScheduled && this.flush());
      }
      return;
    }
    this.flushTo(target);
    this.postNow(target, envelope);
  }

  private flushTo(target: ChannelLike): void {
    const queue = this.queued.get(target);
    if (!queue) return;
    this.queued.delete(target);
    this.postNow(target, queue.length === 1 ? queue[0]! : { type: 'bundle', from: this.tabId, envelopes: queue });
  }

  private postNow(target: ChannelLike, envelope: Envelope): void {
    try {
      target.postMessage(envelope);
    } catch {
      // A closed channel (page going away): nothing to tell.
    }
  }
}
