import type { LiveMessage } from '../shared/messages.ts';
import { StreamHolder, type Audience } from './streamHolder.ts';
import type { TabContext, TabRole } from './tabRole.ts';

/** No other tab hears a standalone tab's stream. */
const NO_OTHER_TABS: Audience = {
  tabs: 1,
  othersVisible: () => false,
  relay: () => undefined,
  tell: () => undefined,
};

/**
 * A tab that runs a stream of its own because it cannot share one: the
 * browser lacks Web Locks or BroadcastChannel (old browsers, pages not
 * served from a secure context), or sharing is turned off. It holds its
 * stream like a leader with no other tab, pausing it while it is hidden.
 */
export class StandaloneRole implements TabRole {
  /** The role's name in the tab's status. */
  readonly name = 'standalone';
  private readonly holder: StreamHolder;

  constructor(private readonly tab: TabContext) {
    this.holder = new StreamHolder(tab, NO_OTHER_TABS, false);
  }

  start(): void {
    this.tab.status.set({ role: 'standalone', tabs: 1 });
    // No other tab: this one's watch requests go straight to the server.
    this.tab.invalidator.watchSync?.route(null);
    this.holder.open();
  }

  received(message: LiveMessage): void {
    this.holder.received(message);
  }

  seeded(): void {
    // This tab's stream applied everything it delivered: nothing to catch up from elsewhere.
    this.tab.invalidator.catchUp(null);
  }

  heard(): void {
    // No channel: no other tab to hear.
  }

  visibilityChanged(): void {
    this.holder.reconcile();
  }

  pageShown(): void {
    // No other tab to announce this one to.
  }

  stop(): void {
    this.holder.stop();
  }
}
