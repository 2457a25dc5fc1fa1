import { LiveError, type PublishedEntry, type PublishRequest } from '../core/index.ts';
import type { ChannelFeed } from './channelFeed.ts';
import type { Delivery } from './delivery.ts';
import { toEntry } from './entryCodec.ts';
import type { LocalFallback } from './localFallback.ts';
import type { ModeMachine } from './modeMachine.ts';
import type { RedisBackendSettings } from './options.ts';
import type { OutageForwarding } from './outageForwarding.ts';
import { PublishDeadlines, type Outgoing } from './publishDeadlines.ts';
import type { RedisLink } from './redisLink.ts';
import { isReplyError, messageOf } from './redisErrors.ts';
import type { TwinMarks } from './twinMarks.ts';

/** The backend's parts a {@link PublishPath} works with. */
export interface PublishPathParts {
  readonly settings: RedisBackendSettings;
  /** This backend's identity (the first half of each publish's). */
  readonly origin: string;
  readonly link: RedisLink;
  readonly mode: ModeMachine;
  readonly feed: ChannelFeed;
  readonly delivery: Delivery;
  readonly local: LocalFallback;
  readonly twins: TwinMarks;
  readonly forwarding: OutageForwarding;
  /** Redis is unreachable (a failed command, or silence past `unreachableAfterMs`): the backend falls back. */
  readonly onUnreachable: (why: string) => void;
}

const closedError = () => new LiveError('CLOSED', 'The live backend is closed');

/**
 * The publish path. Each publish gets its identity here (`origin`, serial
 * 1, 2, …). Shared: sent to Redis with two deadlines (see
 * {@link PublishDeadlines}); local: delivered to this instance's clients
 * and queued for forwarding.
 */
export class PublishPath {
  /** Publishes sent to Redis and not answered yet, and their deadlines. */
  readonly deadlines: PublishDeadlines;
  /** Serials of this backend's publishes (the second half of their identity). */
  private serials = 0;

  constructor(private readonly parts: PublishPathParts) {
    const { settings, mode } = parts;
    this.deadlines = new PublishDeadlines({
      publishTimeoutMs: settings.publishTimeoutMs,
      unreachableAfterMs: settings.unreachableAfterMs,
      // The PING timer ticks every pingIntervalMs; two missed ticks mean this process, not Redis, was busy.
      stallAfterMs: 2 * settings.pingIntervalMs,
      now: settings.now,
      watching: () => mode.shared,
      onOverdue: (outgoing) => this.answerLocally(outgoing),
      onSilent: (why) => parts.onUnreachable(why),
    });
  }

  /** See `LiveBackend.publish`: rejects with `CLOSED` once closed. */
  publish(request: PublishRequest): PublishedEntry | Promise<PublishedEntry> {
    const { mode, forwarding, local } = this.parts;
    if (mode.closed) return Promise.reject(closedError());
    const serial = ++this.serials;
    if (mode.shared) return this.publishWithDeadline(request, serial);
    forwarding.remember(request, serial);
    return local.publish(request, serial);
  }

  /** Sequences a publish in Redis; `null` when Redis already holds this identity (a copy). */
  async publishShared(request: PublishRequest, serial: number): Promise<PublishedEntry | null> {
    const { link, feed, delivery, origin } = this.parts;
    const identity = { origin, serial };
    const [epoch, seq] = await link.publish(request, identity);
    feed.adopt(epoch);
    if (seq === 0) return null;
    const entry = toEntry(request, epoch, seq, identity);
    // Publish-only: no subscription brings it back, so this hub gets it here.
    if (!link.subscribes) delivery.deliver(entry);
    return entry;
  }

  /** What is still waiting for Redis reaches this instance's clients now, not when a command times out. */
  deliverWaitingLocally(): void {
    for (const outgoing of this.deadlines.inFlight.values()) this.deliverLocalCopy(outgoing);
  }

  /** The local copy of a publish still waiting for Redis; it answers the publish if Redis has not. */
  private deliverLocalCopy(outgoing: Outgoing): void {
    if (outgoing.local) return;
    outgoing.local = this.parts.local.publish(outgoing.request, outgoing.serial);
    this.parts.twins.queue();
    outgoing.answer(outgoing.local);
  }

  /** Resolves a publish past its deadline with the position its local copy gets if Redis is declared unreachable. */
  private answerLocally(outgoing: Outgoing): void {
    outgoing.answer(this.parts.local.receipt(outgoing.request, outgoing.serial));
  }

  /**
   * Sends a publish to Redis with two deadlines. Answered within
   * `publishTimeoutMs`: the shared entry. Past it: the promise resolves with
   * the local position (the publisher goes on). Unanswered for
   * `unreachableAfterMs`: the backend falls back (every waiting publish is
   * delivered locally) and the command stays in flight; Redis running it
   * later is harmless (its copy is dropped here), and a failure queues it for
   * forwarding (Redis skips it if it ran it after all).
   */
  private publishWithDeadline(request: PublishRequest, serial: number): Promise<PublishedEntry> {
    const { deadlines } = this;
    return new Promise<PublishedEntry>((resolve, reject) => {
      const outgoing = outgoingPublish(request, serial, this.parts.settings.now(), resolve, reject);
      // An earlier publish is overdue already: Redis is slow or gone, and a mutation that publishes
      // several signals must not wait a deadline for each. It still goes to Redis.
      if (deadlines.anyOverdue) this.answerLocally(outgoing);
      deadlines.add(outgoing);
      this.publishShared(request, serial).then(
        (entry) => {
          deadlines.heard();
          deadlines.remove(outgoing);
          // `null` (Redis holds it already) is not expected for a first send: treat it as local.
          if (entry) outgoing.answer(entry);
          else this.deliverLocalCopy(outgoing);
        },
        (error: unknown) => this.failed(outgoing, error),
      );
    });
  }

  /** Redis failed a publish sent with deadlines. */
  private failed(outgoing: Outgoing, error: unknown): void {
    const { deadlines } = this;
    const { mode, link, delivery, forwarding, settings } = this.parts;
    deadlines.settle(outgoing);
    if (mode.closed) {
      deadlines.remove(outgoing);
      outgoing.fail(closedError());
      return;
    }
    if (isReplyError(error)) {
      deadlines.heard();
      deadlines.remove(outgoing);
      if (outgoing.answered) {
        // The publisher went on (past its deadline): nothing else will tell the clients, so every
        // instance resets them (a refused write, e.g. Redis out of memory, still lets PUBLISH through).
        settings.logger?.warn(`[live:redis] Redis refused a signal after its publish returned: ${messageOf(error)}; resetting clients`);
        link.publishGap().catch(() => delivery.gap('gap'));
      }
      outgoing.fail(new LiveError('BACKEND', 'Publishing the signal failed', { cause: error }));
      return;
    }
    // Unknown fate (Redis may have run it): forward it later; Redis skips it if it did. Still
    // listed while the backend falls back, so local copies keep serial order.
    forwarding.remember(outgoing.request, outgoing.serial);
    this.parts.onUnreachable(messageOf(error));
    this.deliverLocalCopy(outgoing);
    deadlines.remove(outgoing);
  }
}

/** A publish about to be sent, settled once: by Redis's entry, the local position, or a failure. */
function outgoingPublish(
  request: PublishRequest,
  serial: number,
  sentAt: number,
  resolve: (entry: PublishedEntry) => void,
  reject: (error: unknown) => void,
): Outgoing {
  const outgoing: Outgoing = {
    request,
    serial,
    sentAt,
    local: null,
    answered: false,
    overdue: false,
    answer(entry) {
      if (outgoing.answered) return;
      outgoing.answered = true;
      resolve(entry);
    },
    fail(error) {
      if (outgoing.answered) return;
      outgoing.answered = true;
      reject(error);
    },
  };
  return outgoing;
}
