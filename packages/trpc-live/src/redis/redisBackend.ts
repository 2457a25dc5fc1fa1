import { newEpoch, type BackendListener } from '../core/index.ts';
import { ChannelFeed } from './channelFeed.ts';
import { Delivery } from './delivery.ts';
import { HealthPing } from './healthPing.ts';
import { Joiner } from './joiner.ts';
import { LocalFallback } from './localFallback.ts';
import { ModeMachine } from './modeMachine.ts';
import { resolveOptions, type RedisBackend, type RedisBackendOptions, type RedisBackendState } from './options.ts';
import { OutageForwarding } from './outageForwarding.ts';
import { PublishPath } from './publishPath.ts';
import { RedisLink } from './redisLink.ts';
import { RecentEntries } from './recentEntries.ts';
import { ReplayReads } from './replayReads.ts';
import { TwinMarks } from './twinMarks.ts';

export type { RedisBackend, RedisBackendMode, RedisBackendOptions, RedisBackendState } from './options.ts';

/**
 * Creates the Redis backend: one shared epoch and sequence, one stream per
 * scope for replay, one channel carrying every entry to every instance.
 * Only this folder imports a Redis client (`RedisLink` holds both connections).
 *
 * The parts, each with one job and its own state:
 * - `ModeMachine`: connecting / shared / local / closed, errors, outages, `ready()`, health.
 * - `RedisLink`: the connections and every command (keys, scripts, QUIT on close).
 * - `ChannelFeed` and `Delivery`: the channel to the hub; gap detection, epoch adoption, one copy per identity.
 * - `PublishPath` (with `PublishDeadlines`): identities, the two deadlines, local copies of waiting publishes.
 * - `LocalFallback`, `TwinMarks`, `OutageForwarding`: the local history, and what an outage leaves to do.
 * - `Joiner`: (re)joining the shared history; `HealthPing`: a silent Redis noticed without publishes.
 * - `ReplayReads`: replay, with one Redis read per identical cursor in a turn; `RecentEntries`: the entries
 *   the hub has, so replays hand over those objects (their frames are encoded once).
 *
 * Faults: commands fail fast (no offline queue) and connections retry with
 * backoff. While Redis is unreachable, publishes are delivered to local
 * clients under a local epoch; when it returns, the backend forwards what
 * was published locally, rejoins the shared history, and signals a gap
 * (every connection gets `reset`) when its clients may have missed
 * something. No error escapes as an unhandled rejection.
 *
 * Exactly once through faults (issue 20): a publish can be sequenced more
 * than once here (its local copy when Redis missed the deadline, the same
 * command run by Redis once it thawed, a copy forwarded after Redis came
 * back, possibly into a new epoch), and each copy has a different
 * `epoch:seq`. So every publish gets an identity when it is made, `origin`
 * (this backend, random) plus `serial` (1, 2, …), which every copy carries:
 * Redis writes one entry per identity (PUBLISH_SCRIPT), and each backend
 * hands its hub only the first copy of each identity (`SeenSerials`),
 * whatever its epoch. A client connected to a hub therefore never gets a
 * signal twice, with no dedup code of its own.
 *
 * No publish waits on Redis for longer than `publishTimeoutMs`; one
 * unanswered for `unreachableAfterMs` is delivered locally and the backend
 * falls back; a PING every `pingIntervalMs` notices a Redis that stopped
 * answering when nothing is published.
 */
export function createRedisBackend(options: RedisBackendOptions = {}): RedisBackend {
  const settings = resolveOptions(options);
  const { now, logger } = settings;
  const origin = newEpoch(now());
  const link = new RedisLink(settings, origin);

  // The parts, each with one job (see its file); they reach each other only through what is passed here.
  const mode = new ModeMachine({ now, logger, onChange: () => changed() });
  // Entries the hub has, by position: a replay hands over the same objects, whose frames the hub encoded once.
  const recent = new RecentEntries();
  const delivery = new Delivery(undefined, recent);
  const feed = new ChannelFeed({ channel: link.channel, delivery, logger, onNewEpoch: () => changed() });
  const local = new LocalFallback({ origin, delivery, replay: settings.localReplay, now });
  const twins = new TwinMarks({ highestLocal: () => local.lastSerial, write: (upTo) => link.markTwins(upTo), onUnreachable: degrade });
  const forwarding = new OutageForwarding({
    maxForward: settings.maxForward,
    beforeSend: () => twins.ensure(),
    send: ({ request, serial }): Promise<unknown> => publisher.publishShared(request, serial),
    publishGap: () => link.publishGap(),
    onUnreachable: degrade,
    onSent: () => changed(),
    logger,
  });
  const publisher = new PublishPath({ settings, origin, link, mode, feed, delivery, local, twins, forwarding, onUnreachable: degrade });
  const { deadlines } = publisher;
  const inFlight = () => deadlines.inFlight.size;
  const joiner = new Joiner({ link, mode, feed, delivery, local, twins, forwarding, inFlight, backoff: settings.backoff });
  const { pingIntervalMs: intervalMs, unreachableAfterMs, commandTimeoutMs } = settings;
  const canPing = () => link.commandReady;
  const ping = new HealthPing({ intervalMs, unreachableAfterMs, mode, deadlines, canPing, ping: () => link.ping(), now, onUnreachable: degrade });
  const read = (scope: string, epoch: string, afterSeq: number) => link.since(scope, epoch, afterSeq);
  const twinsConfirmed = () => twins.confirmed;
  const replays = new ReplayReads({ mode, local, twinsConfirmed, read, commandTimeoutMs, onUnreachable: degrade, recent });

  /** Redis became unreachable (or stopped answering): deliver locally until it is back. */
  function degrade(why: string): void {
    if (!mode.fall(why, local.epoch)) return;
    publisher.deliverWaitingLocally();
    joiner.scheduleProbe();
  }
  const epoch = () => (mode.shared && feed.epoch ? feed.epoch : local.epoch);
  const state = (): RedisBackendState => ({
    mode: mode.mode,
    epoch: epoch(),
    since: mode.since,
    error: mode.shared ? null : mode.error,
    outages: mode.outages,
    localPublishes: local.publishes,
    gaps: delivery.gaps,
    forwardPending: forwarding.size,
    inFlight: inFlight(),
    duplicatesDropped: delivery.duplicatesDropped,
  });
  function changed(): void {
    try {
      settings.onStateChange?.(state());
    } catch {
      // A broken observer must not break delivery.
    }
  }

  link.listen({
    // ioredis reconnects by itself; the mode change is logged once, not every retry.
    error: (message) => mode.noteError(message),
    closed(which) {
      if (which === 'subscriber') joiner.subscriptionLost();
      if (!mode.closed) degrade(mode.error ?? `${which} connection closed`);
    },
    ready: () => void joiner.join(),
    message: (from, message) => feed.receive(from, message),
  });
  ping.start();

  const isSettled = () => mode.shared && inFlight() === 0 && forwarding.size === 0;
  return {
    name: 'redis',
    epoch,
    attach: (listener: BackendListener) => delivery.attach(listener),
    publish: (request) => publisher.publish(request),
    since: (scope, cursorEpoch, afterSeq) => replays.since(scope, cursorEpoch, afterSeq),
    health: () => mode.health(feed.epoch),
    ready: (timeoutMs = 5000) => mode.ready(timeoutMs),
    state,
    settled: (timeoutMs = 5000) => poll(isSettled, () => mode.closed, timeoutMs, now),
    async close() {
      if (mode.closed) return;
      delivery.attach(null);
      joiner.stop();
      ping.stop();
      deadlines.stop();
      mode.close();
      await link.close();
    },
  };
}

/**
 * Resolves `true` once `done()` holds, `false` once `gaveUp()` does or after `timeoutMs`. A script's
 * last step (`settled()`), not a hot path: polling every 10 ms keeps the bookkeeping free of waiter lists.
 */
async function poll(done: () => boolean, gaveUp: () => boolean, timeoutMs: number, now: () => number): Promise<boolean> {
  const deadline = now() + timeoutMs;
  while (!done()) {
    if (gaveUp() || now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
