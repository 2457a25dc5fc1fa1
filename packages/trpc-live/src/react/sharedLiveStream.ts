import type { LiveInvalidator } from '../client/index.ts';
import type { WatchResponse } from '../shared/watches.ts';
import { FollowerRole } from './followerRole.ts';
import { LeaderRole } from './leaderRole.ts';
import { StandaloneRole } from './standaloneRole.ts';
import { TabChannel, type Envelope } from './tabChannel.ts';
import { TabElection } from './tabElection.ts';
import { resolveTabEnvironment, type ChannelLike, type LockManagerLike, type PageLike } from './tabEnvironment.ts';
import type { StreamEvents, TabContext, TabRole, Unsubscribable } from './tabRole.ts';
import { TabStatus, type SharedLiveStreamStatus } from './tabStatus.ts';

export type { ChannelLike, LockManagerLike, PageLike } from './tabEnvironment.ts';
export type { StreamEvents, Unsubscribable } from './tabRole.ts';
export type { LiveTabRole, SharedLiveStreamStatus } from './tabStatus.ts';

/** Options of {@link createSharedLiveStream}. */
export interface SharedLiveStreamOptions {
  /**
   * Tabs with the same name share one stream. Include whatever makes a
   * stream's content differ (the signed-in user): a tab of another session
   * must not receive this one's signals.
   */
  name: string;
  /** The tab's invalidator: the leader's link feeds it, followers get the relay. */
  invalidator: LiveInvalidator;
  /**
   * Opens the live subscription, resuming after `lastEventId` when given (a
   * takeover continues from the last cursor any tab saw: the server replays
   * the gap). Call `events.disconnected()` when the transport loses the
   * stream (reconnecting, or stopped for good); the next `hello` marks it
   * connected again.
   */
  open: (lastEventId: string | null, events: StreamEvents) => Unsubscribable;
  /**
   * Pauses or resumes the leader's connection on the server (e.g. a `live.pause`
   * mutation). Called when every tab becomes hidden, and when one becomes
   * visible again. @default none: never paused
   */
  setPaused?: (connectionId: string, paused: boolean) => unknown;
  /**
   * How long every tab must stay hidden before the connection is paused. A
   * switch between two tabs hides one before it shows the other, and a
   * glance at another window hides them all for a moment: neither should
   * cost two round trips to the server. Showing a tab resumes at once.
   * @default 3000
   */
  pauseAfterMs?: number;
  /** Web Locks used to elect the leader tab. @default globalThis.navigator.locks (null: not shared) */
  locks?: LockManagerLike | null;
  /**
   * Opens a channel by name: the one the tabs share, and each tab's inbox
   * (the shared name plus `:` and the tab's id), on which the leader sends a
   * pushed result only to the tabs holding its query.
   * @default (name) => new BroadcastChannel(name) (null: not shared)
   */
  channel?: ((name: string) => ChannelLike) | null;
  /** Visibility source. @default globalThis.document */
  document?: PageLike | null;
  /** Page lifecycle source (`pagehide`, `pageshow`). @default globalThis.window */
  window?: PageLike | null;
}

/** A tab's handle on the browser's shared live stream. */
export interface SharedLiveStream {
  /** What this tab knows now: its role, the tab count, paused, connected. */
  status(): SharedLiveStreamStatus;
  /** Calls `listener` on every status change; returns an unsubscribe function. */
  onStatus(listener: (status: SharedLiveStreamStatus) => void): () => void;
  /** Leaves the election, closes this tab's connection if it holds one, tells the others. Idempotent. */
  close(): void;
}

/** Default of {@link SharedLiveStreamOptions.pauseAfterMs}. */
export const DEFAULT_PAUSE_AFTER_MS = 3_000;

/** The answer a closed shared tab gives its own watch requests (see close). */
const NOTHING_WATCHED: WatchResponse = { cursor: '', accepted: [], refused: [] };

/** The role of a closed tab: hears nothing, runs nothing. */
const CLOSED: TabRole = {
  name: 'closed',
  start: () => undefined,
  received: () => undefined,
  seeded: () => undefined,
  heard: () => undefined,
  visibilityChanged: () => undefined,
  pageShown: () => undefined,
  stop: () => undefined,
};

/**
 * One live connection per browser: the tabs sharing `name` elect a leader
 * with the Web Locks API; the leader opens the stream and relays every
 * message (with its cursor) over a `BroadcastChannel`, except pushed results
 * (`result`, `delta`), which go only to the tabs holding their query, each
 * on its own inbox channel; the others apply the relay to their own
 * invalidator. When the leader's tab closes, its lock is
 * released, the next tab takes over and resubscribes from the last cursor
 * it saw, so the server replays whatever was published in between: no gap.
 * A takeover before any cursor was seen cannot replay, so it resets (every
 * active query refetches) instead of risking a missed change. A stream
 * created again for the same invalidator (after `close`) catches up from
 * where the last one stopped, and queries that already held data when the
 * first one was created refetch once it is connected
 * (`LiveInvalidator.listening`).
 *
 * Without Web Locks or BroadcastChannel (old browsers, insecure origins)
 * every tab connects on its own (`standalone`).
 *
 * When every tab has been hidden for `pauseAfterMs`, the leader asks the
 * server to pause the connection (`setPaused`); the first tab to become
 * visible resumes it.
 */
export function createSharedLiveStream(options: SharedLiveStreamOptions): SharedLiveStream {
  const { invalidator } = options;
  // Before any role opens or follows a stream: what changed while nothing listened is caught up.
  invalidator.listening();
  const env = resolveTabEnvironment(options);
  const status = new TabStatus();
  const tab: TabContext = {
    invalidator,
    status,
    visible: () => env.document?.visibilityState !== 'hidden',
    open: options.open,
    setPaused: options.setPaused,
    pauseAfterMs: options.pauseAfterMs ?? DEFAULT_PAUSE_AFTER_MS,
  };
  const { locks, channel: openChannel } = env;
  const lockName = `trpc-live:${options.name}`;
  // Each tab also listens on an inbox of its own (`<channel>:<tab id>`): the leader sends a pushed result only to the tabs holding its query.
  const channel =
    locks && openChannel ? new TabChannel(openChannel(lockName), (envelope) => heard(envelope), (tabId) => openChannel(`${lockName}:${tabId}`)) : null;
  let role: TabRole = channel ? new FollowerRole(tab, channel) : new StandaloneRole(tab);
  const become = (next: TabRole) => {
    role.stop();
    role = next;
    // Started once current: its stream may deliver (and so call back into `role`) as it opens.
    next.start();
  };

  const stopMessages = invalidator.subscribe((message) => role.received(message));
  const stopSeeds = invalidator.onSeed((cursor) => role.seeded(cursor));
  const onVisibility = () => role.visibilityChanged();
  // A page entering the back/forward cache leaves like a closed one, and comes back as a new tab.
  const onPageHide = () => channel?.send({ type: 'bye' });
  const onPageShow = () => role.pageShown();
  env.document?.addEventListener('visibilitychange', onVisibility);
  if (channel) {
    env.window?.addEventListener('pagehide', onPageHide);
    env.window?.addEventListener('pageshow', onPageShow);
  }
  role.start();
  const election =
    locks && channel
      ? new TabElection(locks, lockName, () => {
          const takeover = role instanceof FollowerRole && role.following;
          become(new LeaderRole(tab, channel, takeover));
        })
      : null;

  function heard(envelope: Envelope) {
    // Every role answers a new leader's census.
    if (envelope.type === 'census') channel?.send({ type: 'visibility', visible: tab.visible() });
    else role.heard(envelope);
  }

  return {
    status: () => status.get(),
    onStatus: (listener) => status.subscribe(listener),
    close() {
      if (role === CLOSED) return;
      become(CLOSED);
      // The connection goes with the leader, and the leader drops a follower's watches on its bye: nothing to tell the server.
      if (channel) invalidator.watchSync?.route(() => Promise.resolve(NOTHING_WATCHED));
      stopMessages();
      stopSeeds();
      election?.leave();
      channel?.send({ type: 'bye' });
      channel?.close();
      env.document?.removeEventListener('visibilitychange', onVisibility);
      env.window?.removeEventListener('pagehide', onPageHide);
      env.window?.removeEventListener('pageshow', onPageShow);
      status.set({ role: 'closed' });
      status.clear();
    },
  };
}
