import type { Envelope, TabChannel } from './tabChannel.ts';
import type { TabContext, TabRole } from './tabRole.ts';

/**
 * A tab waiting in the election: `connecting` until it hears of a leader,
 * then `follower`. It applies the leader's relay to its own invalidator,
 * shows the leader's status, tells the leader when it is shown or hidden,
 * and asks the leader (each new one) for what changed since its server
 * render's cursor.
 */
export class FollowerRole implements TabRole {
  /** The tab last heard from as leader; null while connecting. */
  private leaderId: string | null = null;
  private stopTold: (() => void) | null = null;

  constructor(
    private readonly tab: TabContext,
    private readonly channel: TabChannel,
  ) {}

  /** `connecting` until a leader was heard of, then `follower`. */
  get name(): 'connecting' | 'follower' {
    return this.leaderId === null ? 'connecting' : 'follower';
  }

  /** Whether this tab has heard of a leader (a later election of this tab is a takeover). */
  get following(): boolean {
    return this.leaderId !== null;
  }

  start(): void {
    this.announce();
    // The leader removes this tab's watches from the server when this tab leaves.
    const watches = this.tab.invalidator.watchSync;
    this.stopTold = watches?.onTold((keys) => this.channel.send({ type: 'watching', holder: watches.holder, keys })) ?? null;
  }

  received(): void {
    // The relay this role applied itself: only the tab holding the stream relays.
  }

  seeded(cursor: string): void {
    // Connecting: asked once a leader is heard of (follow), or settled by this tab's own stream if it wins.
    if (this.following) this.askLeader(cursor);
  }

  heard(envelope: Envelope): void {
    switch (envelope.type) {
      case 'signal':
        this.follow(envelope.from);
        this.tab.invalidator.receive(envelope.message, envelope.cursor);
        return;
      case 'leader':
        this.follow(envelope.from);
        return;
      case 'status':
        this.follow(envelope.from);
        this.tab.status.set({ tabs: envelope.tabs, paused: envelope.paused, connected: envelope.connected });
        // Joined after the stream's hello was relayed: this tab's watches go to that connection too.
        if (envelope.connection) this.tab.invalidator.useConnection(envelope.connection.connectionId, envelope.connection.epoch);
        return;
      case 'catchup':
        if (envelope.to === this.channel.tabId && this.following && this.tab.invalidator.pendingSeed) {
          this.tab.invalidator.catchUp(envelope.changes);
        }
        return;
      case 'bye':
        // The leader left: not connected until the next leader's stream says hello.
        if (envelope.from === this.leaderId) this.tab.status.set({ connected: false });
        return;
      default:
      // hello, visibility, since: the leader's business.
    }
  }

  visibilityChanged(): void {
    this.channel.send({ type: 'visibility', visible: this.tab.visible() });
  }

  pageShown(): void {
    // Back from the back/forward cache, where it said bye: the leader counts it again, and dropped its watches.
    this.announce();
    this.tab.invalidator.watchSync?.rewatch();
  }

  stop(): void {
    // The relay stops with the channel.
    this.stopTold?.();
    this.stopTold = null;
  }

  /** Asks the leader to count this tab (the leader answers `leader`, so a connecting tab learns who leads). */
  private announce(): void {
    this.channel.send({ type: 'hello', visible: this.tab.visible() });
  }

  /**
   * A server render read the hub at `cursor`, and this tab may have started
   * listening after changes since then were relayed: the leader answers from
   * what its stream delivered (`catchup`).
   */
  private askLeader(cursor: string): void {
    this.channel.send({ type: 'since', cursor });
  }

  private follow(from: string): void {
    const newLeader = this.leaderId !== from;
    const wasConnecting = this.leaderId === null;
    this.leaderId = from;
    if (wasConnecting) this.tab.status.set({ role: 'follower' });
    // Asked again of a new leader: the previous one may have left before answering.
    const seed = this.tab.invalidator.pendingSeed;
    if (newLeader && seed) this.askLeader(seed);
  }
}
