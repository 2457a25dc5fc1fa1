'use client';

import { createContext, useContext, useEffect, type ReactNode } from 'react';
import type { LiveMessage } from '../core/signal';
import type { LiveInvalidator, LiveMessageListener } from '../client/invalidator';

/** Something that can be unsubscribed (a tRPC subscription). */
export interface Unsubscribable {
  unsubscribe(): void;
}

/** Props of {@link LiveProvider}. */
export interface LiveProviderProps {
  invalidator: LiveInvalidator;
  /**
   * Opens the live subscription (e.g. `() => client.live.stream.subscribe({}, {})`).
   * The link in the client's chain applies what arrives; this only keeps it open.
   */
  subscribe: () => Unsubscribable;
  /** Keep the stream closed (e.g. signed out). @default true */
  enabled?: boolean;
  children: ReactNode;
}

const LiveContext = createContext<LiveInvalidator | null>(null);

/** Keeps one live stream open for the tab while mounted. */
export function LiveProvider({ invalidator, subscribe, enabled = true, children }: LiveProviderProps) {
  useEffect(() => {
    if (!enabled) return;
    const subscription = subscribe();
    return () => subscription.unsubscribe();
  }, [subscribe, enabled]);
  return <LiveContext.Provider value={invalidator}>{children}</LiveContext.Provider>;
}

/** The invalidator of the nearest {@link LiveProvider}. */
export function useLiveInvalidator(): LiveInvalidator {
  const invalidator = useContext(LiveContext);
  if (!invalidator) throw new Error('useLiveInvalidator must be used inside <LiveProvider>');
  return invalidator;
}

/** Calls `listener` for every live message (progress, completion, notifications). */
export function useLiveMessages(listener: (message: LiveMessage) => void): void {
  const invalidator = useLiveInvalidator();
  useEffect(() => invalidator.subscribe(listener as LiveMessageListener), [invalidator, listener]);
}
