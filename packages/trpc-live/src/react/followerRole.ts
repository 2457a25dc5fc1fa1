import type { LiveWatchRequest } from '../client/index.ts';
import { formatCursor, parseCursor } from '../shared/cursor.ts';
import type { WatchResponse } from '../shared/watches.ts';
import type { Envelope, TabChannel } from './tabChannel.ts';
import type { TabContext, TabRole } from './tabRole.ts';

/**
 * A tab waiting in the election: `connecting` until it hears of a leader,
 * then `follower`. It applies the leader's relay to its own invalidator,
 * shows the leader's status, tells the leader when it is shown or hidden,
 * asks the leader (each new one) for what changed since its server
 * render's cursor, and hands its watch requests to the leader, which sends
 * one request for every tab (WatchUnion).
 */
export class FollowerRole implements TabRole {
  /** The tab last heard from as leader; null while connecting. */
  private leaderId: string | null = null;
  /** Watch requests handed to the leader, by id, until it answers. */
  private readonly asked = new Map<number, { resolve(response: WatchResponse): void; reject(error: Error): void }>();
  private nextAsk = 0;

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
    // The leader holds the connection: it sends this tab's watches with every other tab's, and drops them when this tab leaves.
    this.tab.invalidator.watchSync?.route((request) => this.handToLeader(request));
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
      case 'pushed':
        // A result for a watch this tab handed to the leader, on its inbox. It may overtake (or trail) the shared
        // channel's messages: a result is applied only over older data of its epoch, its invalidation finds it
        // covered, and a delta needs its exact base (the inbox keeps one leader's frames in order). Not a sign of
        // who leads: a late frame of a leader that left must not make it current again.
        this.tab.invalidator.receive(envelope.message, null);
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
      case 'watched': {
        const asked = envelope.to === this.channel.tabId ? this.asked.get(envelope.id) : undefined;
        if (!asked) return;
        this.asked.delete(envelope.id);
        if (envelope.response) asked.resolve(this.confirmedAfterHeard(envelope.response));
        else asked.reject(new Error('The leader tab could not send the watch request'));
        return;
      }
      case 'bye':
        // The leader left: not connected until the next leader's stream says hello.
        if (envelope.from === this.leaderId) {
          this.tab.status.set({ connected: false });
          this.dropAsked();
        }
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
    this.tab.invalidator.watchSync?.route(null);
    this.dropAsked();
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

  /** Hands a watch request to the leader; settles with its answer (`watched`). */
  private handToLeader(request: LiveWatchRequest): Promise<WatchResponse> {
    const id = this.nextAsk++;
    return new Promise<WatchResponse>((resolve, reject) => {
      this.asked.set(id, { resolve, reject });
      this.channel.send({ type: 'watch', id, request });
    });
  }

  /**
   * The leader sends a pushed result only to the tabs it counts as holding
   * the watch, and counts this tab from the moment it folds in the request,
   * before it answers. A change relayed before that answer (this tab heard
   * it already: the answer travels on the same channel, in order) may have
   * had its result relayed before this tab was counted, so the confirmation
   * must not cover it: it is raised to the newest change heard, and such a
   * change refetches rather than waiting for a result that never comes. (A
   * watch the others held is answered with the cursor of the union's last
   * request, which may be older than changes already relayed.)
   */
  private confirmedAfterHeard(response: WatchResponse): WatchResponse {
    const heard = this.tab.invalidator.latestHeard;
    const cursor = parseCursor(response.cursor);
    if (!heard || !cursor || cursor.epoch !== heard.epoch || cursor.seq >= heard.seq) return response;
    return { ...response, cursor: formatCursor(heard.epoch, heard.seq) };
  }

  /** The leader went: what it was asked is never answered (this tab sends its whole set for the next one's connection). */
  private dropAsked(): void {
    const asked = [...this.asked.values()];
    this.asked.clear();
    for (const { reject } of asked) reject(new Error('The leader tab left'));
  }

  private follow(from: string): void {
    const newLeader = this.leaderId !== from;
    const wasConnecting = this.leaderId === null;
    this.leaderId = from;
    if (newLeader && !wasConnecting) this.dropAsked();
    if (wasConnecting) this.tab.status.set({ role: 'follower' });
    // Asked again of a new leader: the previous one may have left before answering.
    const seed = this.tab.invalidator.pendingSeed;
    if (newLeader && seed) this.askLeader(seed);
  }
}
