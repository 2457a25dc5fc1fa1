'use client';

import { createContext, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import type { LiveInvalidator, LiveMessageListener, LiveWatchCall } from '../client/index.ts';
import type { LiveMessage } from '../shared/messages.ts';
import { consoleLogger, type LiveLogger } from '../shared/logger.ts';
import {
  createSharedLiveStream,
  type SharedLiveStream,
  type SharedLiveStreamOptions,
  type SharedLiveStreamStatus,
} from './sharedLiveStream.ts';
import { streamSubscriber, type LiveStreamProcedure } from './streamSubscriber.ts';

/** Props of {@link LiveProvider}. */
export interface LiveProviderProps {
  /** The invalidator the client's `liveLink` feeds (`createLiveInvalidator`); hooks below the provider read it. */
  invalidator: LiveInvalidator;
  /**
   * The live subscription of the tRPC client: `stream={trpcClient.live.stream}`.
   * The link in the client's chain applies what arrives; the provider only
   * keeps it open (from the invalidator's cursor) and notices when the
   * transport loses it. Give this or `subscribe`.
   * @default undefined: `subscribe` opens the stream
   */
  stream?: LiveStreamProcedure;
  /**
   * Opens the live subscription yourself, from `lastEventId` when given, e.g.
   * `(lastEventId, events) => client.live.stream.subscribe(lastEventId ? { lastEventId } : {}, { onError: events.disconnected })`.
   * Pass a stable function. @default built from `stream`
   */
  subscribe?: SharedLiveStreamOptions['open'];
  /** Called when the stream stops for good (an error the link does not retry). @default reports through `logger.warn` */
  onStreamError?: (error: { message: string }) => void;
  /** Where a stream that stopped for good is reported when no `onStreamError` is given. @default consoleLogger (the global console) */
  logger?: LiveLogger;
  /**
   * `false` keeps the stream closed (e.g. signed out). When it opens later,
   * nothing that changed meanwhile is lost: it resumes from the last cursor
   * (or asks the tab holding the shared stream), and queries fetched before
   * any stream existed are refetched once it is connected. @default true
   */
  enabled?: boolean;
  /**
   * Share one connection among the tabs of this browser under this name
   * (include the signed-in user; see {@link createSharedLiveStream}).
   * `false`: every tab connects on its own. @default false
   */
  shareAcrossTabs?: string | false;
  /** Pause/resume the connection while every tab is hidden. @default none: never paused */
  setPaused?: SharedLiveStreamOptions['setPaused'];
  /** How long every tab must be hidden before the pause. @default 3000 */
  pauseAfterMs?: number;
  /**
   * The app's watch call, `(request) => trpcClient.live.watch.mutate(request)`:
   * the pushable queries (registry bindings with `push`) this tab's
   * components use are watched on the stream's connection (with
   * `shareAcrossTabs`, the tab holding the stream sends every tab's in one
   * request per window), and their results
   * arrive pushed instead of refetched. A watch lasts while a component
   * observes its query; an invalidation of a watched query is held until
   * its result or the server's refetch arrives (at most the invalidator's
   * `holdMs`, 1 s by default). The latest function is used; it need not be
   * stable.
   * @default none: nothing is watched, every change refetches
   */
  watch?: LiveWatchCall;
  /** The app subtree that uses the live hooks. */
  children: ReactNode;
}

/** A stream stopped for good: to `onStreamError`, else as a warning through `logger` (exported for tests, not public). */
export function reportStreamStopped(
  props: Pick<LiveProviderProps, 'onStreamError' | 'logger'>,
  error: { message: string },
): void {
  if (props.onStreamError) props.onStreamError(error);
  else (props.logger ?? consoleLogger).warn('[trpc-live] stream stopped:', error.message);
}

const OFF: SharedLiveStreamStatus = { role: 'closed', tabs: 0, paused: false, connected: false };

/** Holds the current shared stream so hooks can read its status across re-creations. */
class StatusStore {
  private stream: SharedLiveStream | null = null;
  private unlisten: (() => void) | null = null;
  private readonly listeners = new Set<() => void>();

  set(stream: SharedLiveStream | null): void {
    this.unlisten?.();
    this.stream = stream;
    this.unlisten = stream ? stream.onStatus(() => this.emit()) : null;
    this.emit();
  }

  readonly subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly get = (): SharedLiveStreamStatus => this.stream?.status() ?? OFF;

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

interface LiveContextValue {
  readonly invalidator: LiveInvalidator;
  readonly store: StatusStore;
}

const LiveContext = createContext<LiveContextValue | null>(null);

/**
 * Keeps the browser's live stream open while mounted: one connection per
 * browser when `shareAcrossTabs` is set (elected leader tab, relayed to the
 * others), else one per tab.
 */
export function LiveProvider({
  invalidator,
  stream: streamProcedure,
  subscribe: givenSubscribe,
  onStreamError,
  logger,
  enabled = true,
  shareAcrossTabs = false,
  setPaused,
  pauseAfterMs,
  watch,
  children,
}: LiveProviderProps) {
  const [store] = useState(() => new StatusStore());
  // Latest props behind stable callbacks: a new `stream` proxy or error handler each render must not reconnect.
  const latest = useRef({ streamProcedure, onStreamError, logger, watch });
  latest.current = { streamProcedure, onStreamError, logger, watch };
  // A closed stream (signed out) has no connection to watch on.
  const watching = watch !== undefined && enabled;
  useEffect(() => {
    if (!watching) return;
    invalidator.watchWith((request) => latest.current.watch!(request));
    // Unmounted (or the prop removed): this tab's watches are dropped on the server, best effort.
    return () => invalidator.watchWith(null);
  }, [invalidator, watching]);
  const [fromStream] = useState(() =>
    streamSubscriber(
      () => {
        const procedure = latest.current.streamProcedure;
        if (!procedure) throw new Error('<LiveProvider> needs `stream` (e.g. trpcClient.live.stream) or `subscribe`');
        return procedure;
      },
      (error) => reportStreamStopped(latest.current, error),
    ),
  );
  const subscribe = givenSubscribe ?? fromStream;
  useEffect(() => {
    if (!enabled) return;
    const stream = createSharedLiveStream({
      name: shareAcrossTabs || 'unshared',
      invalidator,
      open: subscribe,
      ...(setPaused ? { setPaused } : {}),
      ...(pauseAfterMs !== undefined ? { pauseAfterMs } : {}),
      ...(shareAcrossTabs ? {} : { locks: null, channel: null }),
    });
    store.set(stream);
    return () => {
      stream.close();
      store.set(null);
    };
  }, [invalidator, subscribe, enabled, shareAcrossTabs, setPaused, pauseAfterMs, store]);
  const value = useMemo<LiveContextValue>(() => ({ invalidator, store }), [invalidator, store]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

function useLiveContext(hook: string): LiveContextValue {
  const value = useContext(LiveContext);
  if (!value) throw new Error(`${hook} must be used inside <LiveProvider>`);
  return value;
}

/** The invalidator of the nearest {@link LiveProvider}. */
export function useLiveInvalidator(): LiveInvalidator {
  return useLiveContext('useLiveInvalidator').invalidator;
}

/**
 * Calls `listener` for every live message (progress, completion, notifications). Pass a stable function.
 * In a tab that shares another tab's stream, pushed results (`result`, `delta`) arrive only for the queries this
 * tab watches; every other message arrives in every tab.
 */
export function useLiveMessages(listener: (message: LiveMessage) => void): void {
  const invalidator = useLiveInvalidator();
  useEffect(() => invalidator.subscribe(listener as LiveMessageListener), [invalidator, listener]);
}

/** This tab's part in the shared stream (leader, follower, standalone) and whether it is paused. */
export function useLiveStatus(): SharedLiveStreamStatus {
  const { store } = useLiveContext('useLiveStatus');
  return useSyncExternalStore(store.subscribe, store.get, () => OFF);
}
