import { WatchUnion } from '../client/index.ts';
import type { LiveMessage } from '../shared/messages.ts';
import { StreamHolder, type Audience } from './streamHolder.ts';
import type { Envelope, TabChannel } from './tabChannel.ts';
import type { TabContext, TabRole } from './tabRole.ts';
import type { SharedLiveStreamStatus } from './tabStatus.ts';

/**
 * The elected tab: it holds the stream (StreamHolder) and relays every
 * message with its cursor to the other tabs (a pushed result only to the
 * tabs holding its watch, on their inboxes), counts them and their
 * visibility (for the pause), answers a follower's `since` from what
 * its own stream delivered, and sends every tab's watches in one request
 * per window (WatchUnion), dropping a tab's when it leaves.
 */
export class LeaderRole implements TabRole, Audience {
  /** The role's name in the tab's status. */
  readonly name = 'leader';
  /** The other tabs and whether each is visible. */
  private readonly peers = new Map<string, boolean>();
  private readonly holder: StreamHolder;
  /** Every tab's watches on this tab's connection (null: the registry pushes nothing). */
  private readonly watches: WatchUnion | null = null;
  /** The connection this tab's own stream said hello on (null before it: the invalidator may still name the previous leader's). */
  private connectionId: string | null = null;

  /** `takeover`: another tab led before (this one followed it), so a stream without a cursor cannot resume. */
  constructor(
    private readonly tab: TabContext,
    private readonly channel: TabChannel,
    takeover: boolean,
  ) {
    this.holder = new StreamHolder(tab, this, takeover && !tab.invalidator.lastCursor);
    const sync = tab.invalidator.watchSync;
    if (sync) {
      this.watches = new WatchUnion({
        call: () => sync.watchCall,
        // One holder for the browser: the union counts the tabs itself, and a connection has one leader for its life.
        holder: sync.holder,
        connectionId: () => this.connectionId,
        // Alone, this tab's own WatchSync already gathered its changes: no second window.
        batchMs: () => (this.peers.size ? sync.batchWindowMs : 0),
      });
    }
  }

  /** Tabs sharing the stream, this one included. */
  get tabs(): number {
    return this.peers.size + 1;
  }

  start(): void {
    this.tab.status.set({ role: 'leader', connected: false });
    this.channel.send({ type: 'leader' });
    // A new leader knows no other tab yet: each answers with its visibility, and so is counted.
    this.channel.send({ type: 'census' });
    const { watches } = this;
    if (watches) this.tab.invalidator.watchSync?.route((request) => watches.submit(this.channel.tabId, request));
    this.holder.reconcile();
    this.holder.open();
  }

  received(message: LiveMessage): void {
    if (message.kind === 'hello') this.connectionId = message.connectionId;
    this.watches?.observe(message);
    this.holder.received(message);
  }

  seeded(): void {
    // This tab's stream applied everything it delivered: nothing to catch up from elsewhere.
    this.tab.invalidator.catchUp(null);
  }

  heard(envelope: Envelope): void {
    switch (envelope.type) {
      case 'since':
        // Answered from what this tab's stream delivered; `null` when it cannot tell (the follower then resets).
        this.channel.send({ type: 'catchup', to: envelope.from, changes: this.tab.invalidator.changesSince(envelope.cursor) });
        return;
      case 'hello':
        this.peers.set(envelope.from, envelope.visible);
        this.channel.send({ type: 'leader' });
        this.holder.reconcile();
        return;
      case 'visibility':
        this.peers.set(envelope.from, envelope.visible);
        this.holder.reconcile();
        return;
      case 'watch': {
        const { from, id } = envelope;
        if (!this.watches) {
          this.channel.send({ type: 'watched', to: from, id, response: null });
          return;
        }
        // Answered on the shared channel, behind every message relayed before it: the follower takes what it heard
        // before the answer as possibly not sent to it (FollowerRole raises its confirmation past it).
        this.watches.submit(from, envelope.request).then(
          (response) => this.channel.send({ type: 'watched', to: from, id, response }),
          () => this.channel.send({ type: 'watched', to: from, id, response: null }),
        );
        return;
      }
      case 'bye':
        this.peers.delete(envelope.from);
        this.holder.reconcile();
        // A closed tab cannot tell the server; left alone its watches would be computed until this stream ends.
        this.watches?.dropTab(envelope.from);
        this.channel.forget(envelope.from);
        return;
      default:
      // A late relay of the previous leader (this stream replays it), or a follower's business.
    }
  }

  visibilityChanged(): void {
    this.holder.reconcile();
  }

  pageShown(): void {
    // `hello` asks the leader to count a tab; the leader counts itself.
  }

  stop(): void {
    this.holder.stop();
    this.tab.invalidator.watchSync?.route(null);
    this.watches?.dispose();
  }

  othersVisible(): boolean {
    for (const visible of this.peers.values()) if (visible) return true;
    return false;
  }

  relay(message: LiveMessage): void {
    if ((message.kind === 'result' || message.kind === 'delta') && this.watches) {
      // Only the tabs holding the watch (this tab applied it already): a result is a whole query result, and every tab
      // it is broadcast to deserializes it (7-13% of the article benchmark's simulated browsers' CPU at heavy load,
      // and a wake-up of every hidden tab). A tab holds a watch here from the moment the leader folds in its add until
      // it removes it or leaves, so every tab whose invalidation waits for this result (its watch confirmed through
      // this union) gets it; the invalidations, refetch orders and everything else still reach every tab.
      for (const tab of this.watches.holders(message.watch)) {
        if (tab !== this.channel.tabId) this.channel.sendTo(tab, { type: 'pushed', message });
      }
      return;
    }
    this.channel.send({ type: 'signal', message, cursor: this.tab.invalidator.lastCursor });
  }

  tell(status: SharedLiveStreamStatus): void {
    const { connection } = this.tab.invalidator;
    this.channel.send({ type: 'status', tabs: status.tabs, paused: status.paused, connected: status.connected, ...(connection ? { connection } : {}) });
  }
}
