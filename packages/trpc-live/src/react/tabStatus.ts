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

/** A tab's status and its listeners: a change notifies once, a repeat of the same values not at all. */
export class TabStatus {
  private current: SharedLiveStreamStatus = { role: 'connecting', tabs: 0, paused: false, connected: false };
  private readonly listeners = new Set<(status: SharedLiveStreamStatus) => void>();

  /** The status now (a new object after each change, so it can be compared by reference). */
  get(): SharedLiveStreamStatus {
    return this.current;
  }

  /** Merges `next` into the status and notifies the listeners if anything differs. */
  set(next: Partial<SharedLiveStreamStatus>): void {
    const merged = { ...this.current, ...next };
    const { role, tabs, paused, connected } = this.current;
    if (merged.role === role && merged.tabs === tabs && merged.paused === paused && merged.connected === connected) return;
    this.current = merged;
    for (const listener of this.listeners) listener(merged);
  }

  /** Calls `listener` on every change; returns an unsubscribe function. */
  subscribe(listener: (status: SharedLiveStreamStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Forgets every listener (the stream closed). */
  clear(): void {
    this.listeners.clear();
  }
}
