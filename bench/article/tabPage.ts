import type { LiveVisibility } from 'trpc-live/client';
import type { PageLike } from 'trpc-live/react';

/**
 * One simulated tab's page visibility, in the two shapes the app reads it:
 * a `document` (visibilityState + `visibilitychange`, what the shared live
 * stream watches to pause the browser's connection when every tab is
 * hidden) and a {@link LiveVisibility} (what the tab's invalidator follows
 * to defer refetches while hidden). In a browser both come from the same
 * document; Node has none, and TanStack's focusManager is one per process
 * (not per simulated tab), so each tab gets its own.
 */
export interface TabPage extends PageLike, LiveVisibility {
  readonly visibilityState: 'visible' | 'hidden';
  /** Shows or hides the tab: `visibilitychange` listeners first, then visibility subscribers, as registered. */
  setVisible(visible: boolean): void;
}

/** Creates a {@link TabPage}, visible or hidden to begin with. */
export function createTabPage(visible: boolean): TabPage {
  let state: 'visible' | 'hidden' = visible ? 'visible' : 'hidden';
  const changeListeners = new Set<() => void>();
  const subscribers = new Set<(visible: boolean) => void>();
  return {
    get visibilityState() {
      return state;
    },
    addEventListener(type, listener) {
      if (type === 'visibilitychange') changeListeners.add(listener);
    },
    removeEventListener(type, listener) {
      if (type === 'visibilitychange') changeListeners.delete(listener);
    },
    isVisible: () => state === 'visible',
    subscribe(listener) {
      subscribers.add(listener);
      return () => subscribers.delete(listener);
    },
    setVisible(next) {
      const nextState = next ? 'visible' : 'hidden';
      if (nextState === state) return;
      state = nextState;
      for (const listener of [...changeListeners]) listener();
      for (const listener of [...subscribers]) listener(next);
    },
  };
}
