import type { AppliedChange, LiveWatchRequest } from '../client/index.ts';
import type { WatchResponse } from '../shared/watches.ts';
import type { LiveMessage } from '../shared/messages.ts';
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

/** This tab's end of the `BroadcastChannel` the tabs sharing a stream talk on. */
export class TabChannel {
  /** This tab's id on the channel (random per page load). */
  readonly tabId = randomId();
  private channel: ChannelLike | null;

  /** Joins `channel`; `onEnvelope` hears every other tab's envelope (never this tab's own). */
  constructor(channel: ChannelLike, onEnvelope: (envelope: Envelope) => void) {
    this.channel = channel;
    channel.onmessage = (event) => {
      const envelope = event.data as Envelope | null;
      if (envelope && envelope.from !== this.tabId) onEnvelope(envelope);
    };
  }

  /** Tells the other tabs; nothing once closed. */
  send(body: EnvelopeBody): void {
    try {
      this.channel?.postMessage({ ...body, from: this.tabId });
    } catch {
      // A closed channel (page going away): nothing to tell.
    }
  }

  /** Leaves the channel. Idempotent. */
  close(): void {
    this.channel?.close();
    this.channel = null;
  }
}
