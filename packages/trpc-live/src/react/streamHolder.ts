import type { LiveMessage } from '../shared/messages.ts';
import { PauseControl } from './pauseControl.ts';
import type { StreamEvents, TabContext, Unsubscribable } from './tabRole.ts';
import type { SharedLiveStreamStatus } from './tabStatus.ts';

/** The other tabs, as the tab holding the stream sees them (none for a standalone tab). */
export interface Audience {
  /** Tabs sharing the stream, the holder's included. */
  readonly tabs: number;
  /** Whether any of the other tabs is visible. */
  othersVisible(): boolean;
  /** Passes a message the stream delivered on to the other tabs (a pushed result: to those holding its watch). */
  relay(message: LiveMessage): void;
  /** Tells the other tabs the stream's status. */
  tell(status: SharedLiveStreamStatus): void;
}

/**
 * The stream of the tab that holds it (the leader, or a standalone tab): it
 * opens from the invalidator's cursor, is connected from its hello until the
 * transport loses it, pauses while no tab is visible (PauseControl), and,
 * after a takeover that had no cursor to resume from, resets every query
 * once the new stream is live, since the gap cannot be replayed.
 */
export class StreamHolder {
  private stream: Unsubscribable | null = null;
  private stopped = false;
  private readonly pause: PauseControl;
  private readonly events: StreamEvents = { disconnected: () => this.disconnected() };

  /** `resetWhenLive`: this tab took over without a cursor. */
  constructor(
    private readonly tab: TabContext,
    private readonly audience: Audience,
    private resetWhenLive: boolean,
  ) {
    const anyTabVisible = () => tab.visible() || audience.othersVisible();
    this.pause = new PauseControl(tab.setPaused, tab.pauseAfterMs, anyTabVisible, () => this.reconcile());
  }

  /**
   * Opens the stream. First settles a server render's cursor this tab has
   * not caught up from: a stream opening at or before it replays the rest
   * (nothing to do); else what this tab saw since is applied again, or, when
   * it cannot tell (it followed a tab that left before answering), every
   * query refetches.
   */
  open(): void {
    const { invalidator } = this.tab;
    const seed = invalidator.pendingSeed;
    if (seed) invalidator.catchUp(invalidator.changesSince(seed));
    this.stream = this.tab.open(invalidator.lastCursor, this.events);
  }

  /** A message the stream delivered (through the invalidator): relayed; a hello marks it connected. */
  received(message: LiveMessage): void {
    if (message.kind === 'hello') {
      this.pause.connected(message.connectionId);
      this.tab.status.set({ connected: true });
      this.reconcile();
    }
    this.audience.relay(message);
    if (message.kind === 'hello' && this.resetWhenLive) {
      this.resetWhenLive = false;
      // Received (and so relayed) like any message, so every tab refetches.
      this.tab.invalidator.receive({ kind: 'reset', reason: 'unknown-cursor', seq: 0 });
    }
  }

  /** Pauses or resumes for who is visible now, and shows (and tells) the tab count and pause. */
  reconcile(): void {
    this.pause.update();
    this.tab.status.set({ tabs: this.audience.tabs, paused: this.pause.paused });
    this.audience.tell(this.tab.status.get());
  }

  /** Closes the stream and cancels a pending pause. */
  stop(): void {
    this.stopped = true;
    this.pause.cancel();
    this.stream?.unsubscribe();
    this.stream = null;
  }

  private disconnected(): void {
    if (this.stopped || !this.tab.status.get().connected) return;
    this.tab.status.set({ connected: false });
    // Followers show it too; the next hello (a reconnect) says connected again.
    this.reconcile();
  }
}
