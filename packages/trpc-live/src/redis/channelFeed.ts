import type { LiveLogger } from '../shared/logger.ts';
import { decodeMessage, GAP_MESSAGE } from './entryCodec.ts';
import type { Delivery } from './delivery.ts';

/** What {@link ChannelFeed} needs from its backend. */
export interface ChannelFeedOptions {
  /** The channel entries arrive on (messages from any other are ignored). */
  readonly channel: string;
  readonly delivery: Delivery;
  readonly logger: Pick<LiveLogger, 'warn'> | null;
  /** Redis started a new history (the backend reports its state). */
  readonly onNewEpoch: () => void;
}

/**
 * The shared history as this backend follows it: its epoch, and the next
 * seq expected on the channel. Channel messages go to the hub through
 * {@link Delivery}; a hole in the sequence, a malformed message or a new
 * epoch resets the clients.
 */
export class ChannelFeed {
  private sharedEpoch: string | null = null;
  /** Next seq expected on the channel; `null` until the first message after (re)subscribing or a new epoch. */
  private expected: number | null = null;

  constructor(private readonly options: ChannelFeedOptions) {}

  /** The shared epoch last seen (joined, answered or received); `null` before any. */
  get epoch(): string | null {
    return this.sharedEpoch;
  }

  /** The subscription is new: the next message sets the expected seq. */
  resubscribed(): void {
    this.expected = null;
  }

  /**
   * The backend joins `epoch` (Redis's answer to its hello). Returns whether
   * it replaces another epoch seen before (the join's reset covers it: no
   * second one).
   */
  join(epoch: string): boolean {
    const changed = this.sharedEpoch !== null && epoch !== this.sharedEpoch;
    if (epoch !== this.sharedEpoch) this.expected = null;
    this.sharedEpoch = epoch;
    return changed;
  }

  /** Redis answered with `epoch`: if it is new, Redis lost its data (or was flushed) and a new history began. */
  adopt(epoch: string): void {
    if (epoch === this.sharedEpoch) return;
    const first = this.sharedEpoch === null;
    this.sharedEpoch = epoch;
    this.expected = null;
    if (!first) {
      this.options.logger?.warn(`[live:redis] Redis started a new epoch ${epoch}: its history was lost; resetting clients`);
      this.options.onNewEpoch();
      this.options.delivery.gap('epoch');
    }
  }

  /** A message on a subscribed channel. */
  receive(from: string, message: string): void {
    const { channel, delivery } = this.options;
    if (from !== channel) return;
    if (message === GAP_MESSAGE) {
      delivery.gap('gap');
      return;
    }
    const entry = decodeMessage(message);
    if (!entry) {
      this.options.logger?.warn(`[live:redis] ignored a malformed message on ${channel}`);
      delivery.gap('gap');
      return;
    }
    // One channel carries every scope: any hole in the sequence is a lost signal, in any mode
    // (a freeze keeps the subscription, so a thawed backend relies on this check).
    if (entry.epoch !== this.sharedEpoch) this.adopt(entry.epoch);
    else if (this.expected !== null && entry.seq !== this.expected) delivery.gap('gap');
    this.expected = entry.seq + 1;
    delivery.deliver(entry);
  }
}
