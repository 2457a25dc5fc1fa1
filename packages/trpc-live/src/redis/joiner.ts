import type { ChannelFeed } from './channelFeed.ts';
import type { Delivery } from './delivery.ts';
import type { LocalFallback } from './localFallback.ts';
import type { ModeMachine } from './modeMachine.ts';
import type { OutageForwarding } from './outageForwarding.ts';
import type { RedisLink } from './redisLink.ts';
import { messageOf } from './redisErrors.ts';
import type { TwinMarks } from './twinMarks.ts';

/** The backend's parts a {@link Joiner} works with. */
export interface JoinerParts {
  readonly link: Pick<RedisLink, 'ready' | 'subscribes' | 'subscribe' | 'hello'>;
  readonly mode: ModeMachine;
  readonly feed: ChannelFeed;
  readonly delivery: Delivery;
  readonly local: LocalFallback;
  readonly twins: TwinMarks;
  readonly forwarding: OutageForwarding;
  /** Publishes sent to Redis and not answered yet. */
  readonly inFlight: () => number;
  /** Delay of the `attempt`th retry (see `RedisBackendSettings.backoff`). */
  readonly backoff: (attempt: number) => number;
}

/**
 * (Re)joins the shared history once both connections are ready: subscribes,
 * learns the epoch, forwards what was published locally, then switches the
 * mode to shared and resets the clients if they may have missed something.
 * Retries with backoff while connections look ready but joining failed.
 */
export class Joiner {
  private joining = false;
  private subscribed = false;
  /**
   * Channel messages may have been missed since the last time this backend
   * was shared (the subscription dropped, or it never had one): its clients
   * need a reset when it rejoins. A freeze keeps the subscription, and the
   * channel's seq check finds any hole, so a thaw needs none for this.
   */
  private subscriptionBroken = true;
  private probeTimer: ReturnType<typeof setTimeout> | null = null;
  private probeAttempt = 0;

  constructor(private readonly parts: JoinerParts) {}

  /** The subscriber's connection closed: the next join subscribes again. */
  subscriptionLost(): void {
    this.subscribed = false;
    this.subscriptionBroken = true;
  }

  /** Retries joining while connections look ready but joining failed (e.g. a timeout). */
  scheduleProbe(): void {
    if (this.probeTimer || this.parts.mode.closed) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      void this.join();
    }, this.parts.backoff(++this.probeAttempt));
    this.probeTimer.unref?.();
  }

  /** Cancels a scheduled retry (on close). */
  stop(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
  }

  /** (Re)joins the shared history once both connections are ready (their 'ready' event calls it again). */
  async join(): Promise<void> {
    const { link, mode } = this.parts;
    if (mode.shared || mode.closed || this.joining || !link.ready) return;
    this.joining = true;
    try {
      await this.tryJoin();
    } catch (error) {
      if (!mode.shared) {
        mode.noteError(messageOf(error));
        this.scheduleProbe();
      }
    } finally {
      this.joining = false;
    }
  }

  private async tryJoin(): Promise<void> {
    const { link, mode, feed, forwarding, twins } = this.parts;
    if (link.subscribes && !this.subscribed) {
      await link.subscribe();
      this.subscribed = true;
      feed.resubscribed();
    }
    const epoch = await link.hello();
    // The subscription dropped while joining: its 'ready' event starts over.
    if (mode.closed || this.lostSubscription()) return;
    // Commands sent before the hello on this connection were answered before it; any still
    // waiting were sent on a connection that has not failed them yet: wait for their outcome,
    // which decides whether they are forwarded (and keeps serials in order in Redis).
    if (this.parts.inFlight()) {
      this.scheduleProbe();
      return;
    }
    // Joining resets clients (below) whenever the epoch changed: no second reset for it.
    const epochChanged = feed.join(epoch);
    // Still local: publishes made meanwhile join the queue, which is sent before any new publish.
    // Checked again right before switching (same synchronous step): a publish made while the
    // last forward was answered must not be left behind.
    do {
      if (!(await forwarding.flush())) return;
      if (mode.closed || this.lostSubscription()) return;
    } while (forwarding.size || twins.pending);
    this.becomeShared(epoch, epochChanged);
  }

  private becomeShared(epoch: string, epochChanged: boolean): void {
    const { mode, local, delivery } = this.parts;
    this.probeAttempt = 0;
    local.renew();
    mode.join(epoch);
    // Clients may have missed something: what other instances published while this one was not
    // subscribed, or a frame the local epoch's cursor cannot place in the shared history.
    const deliveredLocally = local.takeDelivered();
    const needsGap = this.subscriptionBroken || deliveredLocally || epochChanged;
    this.subscriptionBroken = false;
    if (needsGap) delivery.gap('gap');
  }

  private lostSubscription(): boolean {
    return this.parts.link.subscribes && !this.subscribed;
  }
}
