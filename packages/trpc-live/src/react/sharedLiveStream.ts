import type { AppliedChange, LiveInvalidator } from '../client/index.ts';
import type { LiveMessage } from '../shared/messages.ts';

/** Something that can be unsubscribed (a tRPC subscription). */
export interface Unsubscribable {
  /** Stops the subscription; calling it twice is harmless. */
  unsubscribe(): void;
}

/**
 * What this tab does for the browser's live stream:
 * `leader` holds the one connection and relays to the other tabs,
 * `follower` receives the leader's relay, `standalone` runs a stream of its
 * own because it cannot share one (no Web Locks or BroadcastChannel, or
 * sharing turned off), `connecting` is waiting for the election.
 */
export type LiveTabRole = 'connecting' | 'leader' | 'follower' | 'standalone' | 'closed';

/** What a tab knows about the shared stream (for a status badge). */
export interface SharedLiveStreamStatus {
  /** What this tab does for the stream now. */
  readonly role: LiveTabRole;
  /** Tabs sharing the stream, as the leader counts them (1 for `standalone`; 0 until a follower hears). */
  readonly tabs: number;
  /** The stream's batched and coalesced delivery is paused because every tab is hidden. */
  readonly paused: boolean;
  /** The current stream has said hello (it is registered on the server and receiving). */
  readonly connected: boolean;
}

/** What the subscription tells the shared stream about its transport. */
export interface StreamEvents {
  /** The stream is down (the transport is reconnecting, or gave up). */
  disconnected(): void;
}

/** The parts of the Web Locks API used (`navigator.locks`). */
export interface LockManagerLike {
  /** Runs `callback` while holding the exclusive lock `name` (waits for it; `signal` abandons the wait). */
  request(name: string, options: { signal?: AbortSignal }, callback: (lock: unknown) => Promise<void>): Promise<unknown>;
}

/** The parts of `BroadcastChannel` used. */
export interface ChannelLike {
  /** Sends a message to the other tabs on the channel. */
  postMessage(message: unknown): void;
  /** Leaves the channel. */
  close(): void;
  /** Receives the other tabs' messages. */
  onmessage: ((event: { data: unknown }) => void) | null;
}

/** The parts of `document` / `window` used: visibility and page lifecycle events. */
export interface PageLike {
  /** `'visible'` or `'hidden'` (a document's); absent on a window. */
  readonly visibilityState?: string;
  /** Listens to `visibilitychange`, `pagehide` or `pageshow`. */
  addEventListener(type: string, listener: () => void): void;
  /** Stops listening. */
  removeEventListener(type: string, listener: () => void): void;
}

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
  /** Opens the channel the leader relays on. @default (name) => new BroadcastChannel(name) (null: not shared) */
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

type Envelope =
  | { type: 'hello'; from: string; visible: boolean }
  | { type: 'leader'; from: string }
  | { type: 'census'; from: string }
  | { type: 'visibility'; from: string; visible: boolean }
  | { type: 'bye'; from: string }
  | { type: 'status'; from: string; tabs: number; paused: boolean; connected: boolean }
  | { type: 'signal'; from: string; message: LiveMessage; cursor: string | null }
  | { type: 'since'; from: string; cursor: string }
  | { type: 'catchup'; from: string; to: string; changes: AppliedChange[] | null };

/** Default of {@link SharedLiveStreamOptions.pauseAfterMs}. */
export const DEFAULT_PAUSE_AFTER_MS = 3_000;

const randomId = () => Math.random().toString(36).slice(2, 10) + Date.now().toString(36);

function defaultLocks(): LockManagerLike | null {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return nav?.locks && typeof nav.locks.request === 'function' ? nav.locks : null;
}

function defaultChannel(): ((name: string) => ChannelLike) | null {
  const Ctor = (globalThis as { BroadcastChannel?: new (name: string) => ChannelLike }).BroadcastChannel;
  return typeof Ctor === 'function' ? (name) => new Ctor(name) : null;
}

const globalPage = (key: 'document' | 'window'): PageLike | null =>
  ((globalThis as Record<string, unknown>)[key] as PageLike | undefined) ?? null;

/**
 * One live connection per browser: the tabs sharing `name` elect a leader
 * with the Web Locks API; the leader opens the stream and relays every
 * message (with its cursor) over a `BroadcastChannel`; the others apply the
 * relay to their own invalidator. When the leader's tab closes, its lock is
 * released, the next tab takes over and resubscribes from the last cursor
 * it saw, so the server replays whatever was published in between: no gap.
 * A takeover before any cursor was seen cannot replay, so it resets (every
 * active query refetches) instead of risking a missed change.
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
  const tabId = randomId();
  const locks = options.locks === undefined ? defaultLocks() : options.locks;
  const makeChannel = options.channel === undefined ? defaultChannel() : options.channel;
  const doc = options.document === undefined ? globalPage('document') : options.document;
  const win = options.window === undefined ? globalPage('window') : options.window;

  let role: LiveTabRole = 'connecting';
  let closed = false;
  let stream: Unsubscribable | null = null;
  let channel: ChannelLike | null = null;
  let releaseLock: (() => void) | null = null;
  const lockAbort = new AbortController();
  /** Other tabs and whether each is visible (leader only). */
  const peers = new Map<string, boolean>();
  /** The leader's own connection (from its stream's `hello`). */
  let connectionId: string | null = null;
  /** What the server was last told for `connectionId`. */
  let serverPaused = false;
  /** Pending pause: every tab is hidden, for less than `pauseAfterMs` so far. */
  let pauseTimer: ReturnType<typeof setTimeout> | null = null;
  const pauseAfterMs = options.pauseAfterMs ?? DEFAULT_PAUSE_AFTER_MS;
  /** Took over without a cursor: reset once the new stream is live. */
  let resetWhenLive = false;
  /** Heard of a leader before (a later election is a takeover). */
  let hadLeader = false;
  /** The tab a follower last heard from as leader. */
  let leaderId: string | null = null;
  let status: SharedLiveStreamStatus = { role, tabs: 0, paused: false, connected: false };
  const listeners = new Set<(status: SharedLiveStreamStatus) => void>();

  const visible = () => doc?.visibilityState !== 'hidden';
  const post = (envelope: Envelope) => {
    try {
      channel?.postMessage(envelope);
    } catch {
      // A closed channel (page going away): nothing to tell.
    }
  };

  const setStatus = (next: Partial<SharedLiveStreamStatus>) => {
    const merged = { ...status, role, ...next };
    if (
      merged.role === status.role &&
      merged.tabs === status.tabs &&
      merged.paused === status.paused &&
      merged.connected === status.connected
    ) {
      return;
    }
    status = merged;
    for (const listener of listeners) listener(status);
  };

  const anyTabVisible = () => {
    let anyVisible = visible();
    for (const peerVisible of peers.values()) anyVisible ||= peerVisible;
    return anyVisible;
  };

  const tellServer = (paused: boolean) => {
    if (!options.setPaused || !connectionId || paused === serverPaused) return;
    serverPaused = paused;
    const id = connectionId;
    void Promise.resolve()
      .then(() => options.setPaused!(id, paused))
      .catch(() => {
        // The connection closed meanwhile; its successor starts unpaused and is reconciled on hello.
      });
  };

  const cancelPause = () => {
    if (pauseTimer !== null) clearTimeout(pauseTimer);
    pauseTimer = null;
  };

  /**
   * Leader and standalone: pause the connection once no tab has been visible for
   * `pauseAfterMs`; resume as soon as one is.
   */
  const reconcile = () => {
    if (role !== 'leader' && role !== 'standalone') return;
    if (anyTabVisible()) {
      cancelPause();
      tellServer(false);
    } else if (options.setPaused && connectionId && !serverPaused && pauseTimer === null) {
      if (pauseAfterMs <= 0) tellServer(true);
      else {
        pauseTimer = setTimeout(() => {
          pauseTimer = null;
          if (closed || anyTabVisible()) return;
          tellServer(true);
          reconcile();
        }, pauseAfterMs);
      }
    }
    const tabs = role === 'standalone' ? 1 : peers.size + 1;
    const shown = options.setPaused ? serverPaused : false;
    setStatus({ tabs, paused: shown });
    if (role === 'leader') post({ type: 'status', from: tabId, tabs, paused: shown, connected: status.connected });
  };

  const stopListening = invalidator.subscribe((message) => {
    // Followers feed relayed messages into the invalidator too: only the tab that owns the stream relays.
    if (role !== 'leader' && role !== 'standalone') return;
    if (message.kind === 'hello') {
      connectionId = message.connectionId;
      serverPaused = false;
      setStatus({ connected: true });
      reconcile();
    }
    if (role === 'leader') post({ type: 'signal', from: tabId, message, cursor: invalidator.lastCursor });
    if (message.kind === 'hello' && resetWhenLive) {
      resetWhenLive = false;
      // Relayed like any message, so every tab refetches.
      invalidator.receive({ kind: 'reset', reason: 'unknown-cursor', seq: 0 });
    }
  });

  const streamEvents: StreamEvents = {
    disconnected() {
      if (closed || (role !== 'leader' && role !== 'standalone') || !status.connected) return;
      setStatus({ connected: false });
      // Followers show it too; the next hello (a reconnect) says connected again.
      reconcile();
    },
  };

  /**
   * A tab about to open the stream itself settles a server render's cursor
   * it has not caught up from: a stream opening at or before it replays
   * the rest (nothing to do); else what this tab saw since it is applied
   * again, or, when it cannot tell (it followed another tab that left before
   * answering), every query refetches.
   */
  const settleSeedBeforeOpening = () => {
    const seed = invalidator.pendingSeed;
    if (seed) invalidator.catchUp(invalidator.changesSince(seed));
  };

  /**
   * A follower's server render read the hub at `cursor`, and this tab may
   * have started listening after changes since then were relayed: it asks
   * the leader, which answers from what its stream delivered (see `catchup`).
   */
  const askLeader = (cursor: string) => post({ type: 'since', from: tabId, cursor });

  const stopSeeds = invalidator.onSeed((cursor) => {
    if (role === 'follower') askLeader(cursor);
    else if (role === 'leader' || role === 'standalone') invalidator.catchUp(null);
    // connecting: settled on election (becomeFollower asks, becomeLeader settles).
  });

  const becomeLeader = () => {
    role = 'leader';
    peers.clear();
    resetWhenLive = hadLeader && !invalidator.lastCursor;
    hadLeader = true;
    setStatus({ connected: false });
    post({ type: 'leader', from: tabId });
    post({ type: 'census', from: tabId });
    reconcile();
    settleSeedBeforeOpening();
    stream = options.open(invalidator.lastCursor, streamEvents);
  };

  const onEnvelope = (envelope: Envelope) => {
    if (closed || !envelope || envelope.from === tabId) return;
    switch (envelope.type) {
      case 'signal':
        if (role === 'leader') return; // a late relay of the previous leader: our stream replays it
        becomeFollower(envelope.from);
        invalidator.receive(envelope.message, envelope.cursor);
        return;
      case 'leader':
        if (role !== 'leader') becomeFollower(envelope.from);
        return;
      case 'since':
        // Answered from what this tab's stream delivered; `null` when it cannot tell (the follower then resets).
        if (role === 'leader') {
          post({ type: 'catchup', from: tabId, to: envelope.from, changes: invalidator.changesSince(envelope.cursor) });
        }
        return;
      case 'catchup':
        if (envelope.to === tabId && role === 'follower' && invalidator.pendingSeed) invalidator.catchUp(envelope.changes);
        return;
      case 'census':
        post({ type: 'visibility', from: tabId, visible: visible() });
        return;
      case 'status':
        if (role !== 'leader') {
          becomeFollower(envelope.from);
          setStatus({ tabs: envelope.tabs, paused: envelope.paused, connected: envelope.connected });
        }
        return;
      case 'hello':
        if (role !== 'leader') return;
        peers.set(envelope.from, envelope.visible);
        post({ type: 'leader', from: tabId });
        reconcile();
        return;
      case 'visibility':
        if (role !== 'leader') return;
        peers.set(envelope.from, envelope.visible);
        reconcile();
        return;
      case 'bye':
        // The leader left: not connected until the next leader's stream says hello.
        if (role === 'follower' && envelope.from === leaderId) setStatus({ connected: false });
        if (role !== 'leader') return;
        peers.delete(envelope.from);
        reconcile();
        return;
    }
  };

  function becomeFollower(from: string) {
    hadLeader = true;
    const newLeader = leaderId !== from;
    leaderId = from;
    if (role === 'connecting') {
      role = 'follower';
      setStatus({});
    }
    // Asked again of a new leader: the previous one may have left before answering.
    const seed = invalidator.pendingSeed;
    if (newLeader && role === 'follower' && seed) askLeader(seed);
  }

  const onVisibility = () => {
    if (role === 'leader' || role === 'standalone') reconcile();
    else post({ type: 'visibility', from: tabId, visible: visible() });
  };
  // A page entering the back/forward cache leaves like a closed one, and comes back as a new tab.
  const onPageHide = () => post({ type: 'bye', from: tabId });
  const onPageShow = () => {
    if (role !== 'leader') post({ type: 'hello', from: tabId, visible: visible() });
  };
  doc?.addEventListener('visibilitychange', onVisibility);

  if (!locks || !makeChannel) {
    role = 'standalone';
    setStatus({ tabs: 1 });
    settleSeedBeforeOpening();
    stream = options.open(invalidator.lastCursor, streamEvents);
  } else {
    channel = makeChannel(`trpc-live:${options.name}`);
    channel.onmessage = (event) => onEnvelope(event.data as Envelope);
    win?.addEventListener('pagehide', onPageHide);
    win?.addEventListener('pageshow', onPageShow);
    post({ type: 'hello', from: tabId, visible: visible() });
    locks
      .request(`trpc-live:${options.name}`, { signal: lockAbort.signal }, () => {
        if (closed) return Promise.resolve();
        return new Promise<void>((resolve) => {
          // Held until this tab closes (or the page dies, which frees it too).
          releaseLock = resolve;
          becomeLeader();
        });
      })
      .catch(() => {
        // Aborted while waiting (closed before winning the election).
      });
  }

  return {
    status: () => status,
    onStatus(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      if (closed) return;
      closed = true;
      cancelPause();
      stopListening();
      stopSeeds();
      stream?.unsubscribe();
      stream = null;
      lockAbort.abort();
      releaseLock?.();
      post({ type: 'bye', from: tabId });
      channel?.close();
      channel = null;
      doc?.removeEventListener('visibilitychange', onVisibility);
      win?.removeEventListener('pagehide', onPageHide);
      win?.removeEventListener('pageshow', onPageShow);
      role = 'closed';
      setStatus({});
      listeners.clear();
    },
  };
}
