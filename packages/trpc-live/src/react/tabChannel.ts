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
  | { type: 'catchup'; from: string; to: string; changes: AppliedChange[] | null };

/** The stream's connection on the server, from its hello. */
export interface StreamConnection {
  readonly connectionId: string;
  readonly epoch: string;
}

type WithoutFrom<E> = E extends unknown ? Omit<E, 'from'> : never;

/** An envelope as a role writes it: the channel signs it with its tab id. */
export type EnvelopeBody = WithoutFrom<Envelope>;

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
 */
export class TabChannel {
  /** This tab's id on the channel (random per page load). */
  readonly tabId = randomId();
  private channel: ChannelLike | null;
  private inbox: ChannelLike | null = null;
  /** Other tabs' inboxes this tab sends to, opened on first use (closed by {@link forget}). */
  private readonly outboxes = new Map<string, ChannelLike>();

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
  ) {
    this.channel = channel;
    const hear = (event: { data: unknown }) => {
      const envelope = event.data as (Envelope & { to?: string }) | null;
      if (!envelope || envelope.from === this.tabId) return;
      if (envelope.to !== undefined && envelope.to !== this.tabId) return;
      onEnvelope(envelope);
    };
    channel.onmessage = hear;
    if (openInbox) {
      this.inbox = openInbox(this.tabId);
      this.inbox.onmessage = hear;
    }
  }

  /** Tells the other tabs; nothing once closed. */
  send(body: EnvelopeBody): void {
    try {
      this.channel?.postMessage({ ...body, from: this.tabId });
    } catch {
      // A closed channel (page going away): nothing to tell.
    }
  }

  /**
   * Tells the tab `to` alone, on its inbox (without inboxes: on the shared
   * channel, addressed). Nothing once closed; a tab that has gone simply
   * does not hear it.
   */
  sendTo(to: string, body: EnvelopeBody): void {
    if (!this.channel) return;
    try {
      if (!this.openInbox) {
        this.channel.postMessage({ ...body, to, from: this.tabId });
        return;
      }
      let outbox = this.outboxes.get(to);
      if (!outbox) this.outboxes.set(to, (outbox = this.openInbox(to)));
      outbox.postMessage({ ...body, from: this.tabId });
    } catch {
      // A closed channel (page going away): nothing to tell.
    }
  }

  /** The tab `tabId` left: closes this tab's end of its inbox (opened again if sent to later). */
  forget(tabId: string): void {
    this.outboxes.get(tabId)?.close();
    this.outboxes.delete(tabId);
  }

  /** Leaves the channel and closes the inboxes. Idempotent. */
  close(): void {
    this.channel?.close();
    this.channel = null;
    this.inbox?.close();
    this.inbox = null;
    for (const outbox of this.outboxes.values()) outbox.close();
    this.outboxes.clear();
  }
}
