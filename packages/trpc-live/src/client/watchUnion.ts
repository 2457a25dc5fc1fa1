import type { LiveMessage } from '../shared/messages.ts';
import type { WatchResponse, WatchSpec } from '../shared/watches.ts';
import { watchKey } from '../shared/watches.ts';
import type { LiveWatchCall, LiveWatchRequest } from './watchSync.ts';

/** Options of {@link WatchUnion}. */
export interface WatchUnionOptions {
  /** The server's watch call (the holding tab's `live.watch`); null: none set, submissions fail. */
  call: () => LiveWatchCall | null;
  /** The holder every request names: one for the whole browser on the connection. */
  holder: string;
  /** The connection the holding tab's stream runs on now (from its hello), or null before it. */
  connectionId: () => string | null;
  /**
   * How long submissions gather before one request goes out: each tab's
   * WatchSync already gathered its own page's changes; this gathers the
   * tabs whose windows closed near each other (several tabs opened at once,
   * every tab sending its whole set again after a new hello). Asked at each
   * window's start: a tab alone (no other tab to gather) passes 0.
   */
  batchMs: () => number;
}

const NO_TABS: ReadonlySet<string> = new Set();

/** The answer to a submission that changed nothing on the server (its keys are held by another tab too). */
const NOTHING_SENT: WatchResponse = { cursor: '', accepted: [], refused: [] };

interface Waiter {
  resolve(response: WatchResponse): void;
  reject(error: unknown): void;
}

/**
 * The watches of every tab sharing one stream, held by the tab that holds it
 * (the leader): each tab submits its own changes (its WatchSync's requests),
 * the union keeps which tabs hold each watch, and one request per window
 * goes to the server for them all, under one holder. A watch is removed
 * from the server only when the last tab holding it drops it (or leaves).
 * A tab adding a watch the server already holds for another tab is
 * answered at once, without a request, while no result of it was pushed
 * since it was added: the server's next result of it is then whole anyway,
 * and reaches the new tab too (the leader relays it to every tab holding
 * the watch, {@link holders}, the new one included). Once a
 * result was pushed, the add is sent, so that the next one is whole again
 * (a delta would build on a result the new tab never saw). Every submitter gets the answer of the request
 * that carried its changes. One request at a time, so an add and a later
 * remove cannot overtake each other. A new connection holds nothing: the
 * union starts empty for it, and every tab sends its whole set again.
 */
export class WatchUnion {
  /** Tabs holding each watch (for this connection). */
  private readonly refs = new Map<string, Set<string>>();
  private connectionId: string | null = null;
  /** The next request: adds (with the tabs that asked), removes, and who waits for its answer. */
  private add = new Map<string, { spec: WatchSpec; tabs: Set<string> }>();
  private remove = new Set<string>();
  private waiters: Waiter[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight = false;
  /** Changed since the last request went out (a failed request alone waits for the next change). */
  private dirty = false;
  /** Watches the server accepted on this connection. */
  private readonly accepted = new Set<string>();
  /** Watches whose result (or delta) the stream delivered since their add was last sent: the server's next may be a delta. */
  private readonly pushed = new Set<string>();
  /** The cursor of the server's latest answer on this connection: it confirms the accepted watches a tab adds later. */
  private lastCursor: string | null = null;
  /** Requests sent and failed so far, and adds answered without one (tests, inspectors). */
  readonly stats = { requests: 0, failures: 0, sharedAdds: 0 };

  constructor(private readonly options: WatchUnionOptions) {}

  /**
   * The tabs holding `key` on the current connection: from the submission
   * that added it (before the server's answer) until the one that removed
   * it, a refused or failed add, or the tab's leaving. Every tab whose watch
   * of `key` is confirmed through this union is among them, so a pushed
   * result needs to reach only these.
   */
  holders(key: string): ReadonlySet<string> {
    return this.refs.get(key) ?? NO_TABS;
  }

  /** Watches held by at least one tab, with how many tabs hold each (tests, inspectors). */
  held(): Map<string, number> {
    return new Map([...this.refs].map(([key, tabs]) => [key, tabs.size]));
  }

  /**
   * A message the holding tab's stream delivered (call before relaying it):
   * a result or delta makes the server's next result of that watch possibly
   * a delta; a refetch order makes it whole.
   */
  observe(message: LiveMessage): void {
    if (message.kind === 'result' || message.kind === 'delta') this.pushed.add(message.watch);
    else if (message.kind === 'refetch') this.pushed.delete(message.watch);
  }

  /**
   * Applies `tab`'s request (its adds and removes) to the union; resolves
   * with the server's answer to the request that carried it, or at once
   * when it changes nothing on the server. Rejects a request for another
   * connection than the holding tab's current one.
   */
  submit(tab: string, request: LiveWatchRequest): Promise<WatchResponse> {
    if (request.connectionId !== this.connectionId) {
      if (request.connectionId !== this.options.connectionId()) {
        return Promise.reject(new Error(`Watch request for ${request.connectionId}, not the shared stream's connection`));
      }
      this.restart(request.connectionId);
    }
    let changed = false;
    for (const key of request.remove) changed = this.release(key, tab) || changed;
    /** Adds answered here: the server holds them, and its next result of each is whole. */
    const shared: string[] = [];
    for (const spec of request.add) {
      const key = watchKey(spec.path, spec.input);
      const tabs = this.refs.get(key) ?? new Set<string>();
      if (tabs.size && this.accepted.has(key) && !this.pushed.has(key) && !this.add.has(key)) {
        tabs.add(tab);
        shared.push(key);
        continue;
      }
      tabs.add(tab);
      this.refs.set(key, tabs);
      this.remove.delete(key);
      const pending = this.add.get(key) ?? { spec, tabs: new Set<string>() };
      pending.tabs.add(tab);
      this.add.set(key, pending);
      changed = true;
    }
    this.stats.sharedAdds += shared.length;
    // A later cursor than the one the server accepted them at: a confirmation can only be later than the truth, never earlier.
    const withShared = (response: WatchResponse): WatchResponse =>
      shared.length ? { ...response, cursor: response.cursor || this.lastCursor!, accepted: [...response.accepted, ...shared] } : response;
    if (!changed) return Promise.resolve(withShared(NOTHING_SENT));
    this.dirty = true;
    return new Promise<WatchResponse>((resolve, reject) => {
      this.waiters.push({ resolve: (response) => resolve(withShared(response)), reject });
      this.flushSoon();
    });
  }

  /** `tab` left (closed, or into the back/forward cache): the watches only it held are removed from the server. */
  dropTab(tab: string): void {
    let changed = false;
    for (const key of [...this.refs.keys()]) changed = this.release(key, tab) || changed;
    if (!changed) return;
    this.dirty = true;
    this.flushSoon();
  }

  /** Stops: pending submissions fail (their tabs send again for the next connection). */
  dispose(): void {
    this.restart(null);
  }

  /** Drops `tab` from a watch; true when that was the last tab, so the server is told. */
  private release(key: string, tab: string): boolean {
    const tabs = this.refs.get(key);
    if (!tabs?.delete(tab)) return false;
    const pending = this.add.get(key);
    pending?.tabs.delete(tab);
    if (pending && !pending.tabs.size) this.add.delete(key);
    if (tabs.size) return false;
    this.refs.delete(key);
    this.add.delete(key);
    this.accepted.delete(key);
    this.pushed.delete(key);
    this.remove.add(key);
    return true;
  }

  /** A new connection (or none): it holds no watch; what was pending named the old one. */
  private restart(connectionId: string | null): void {
    this.connectionId = connectionId;
    this.refs.clear();
    this.accepted.clear();
    this.pushed.clear();
    this.lastCursor = null;
    this.add = new Map();
    this.remove = new Set();
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(new Error('The shared stream moved to another connection'));
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.inFlight = false;
    this.dirty = false;
  }

  private flushSoon(): void {
    if (this.timer !== null || this.inFlight) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.options.batchMs());
  }

  private flush(): void {
    // The holding tab's stream said hello on another connection since: nothing pending applies to it.
    if (this.connectionId !== this.options.connectionId()) {
      this.restart(this.options.connectionId());
      return;
    }
    const { connectionId } = this;
    this.dirty = false;
    const waiters = this.waiters;
    const add = this.add;
    const remove = [...this.remove];
    this.waiters = [];
    this.add = new Map();
    this.remove = new Set();
    const call = this.options.call();
    if (!connectionId || !call) {
      for (const waiter of waiters) waiter.reject(new Error('No watch call'));
      return;
    }
    if (!add.size && !remove.length) {
      for (const waiter of waiters) waiter.resolve(NOTHING_SENT);
      return;
    }
    this.inFlight = true;
    this.stats.requests++;
    const current = () => this.connectionId === connectionId;
    const request: LiveWatchRequest = {
      connectionId,
      holder: this.options.holder,
      add: [...add.values()].map((pending) => pending.spec),
      remove,
      deltas: true,
    };
    // Results delivered from here on may be the base of the server's next delta (this add makes the next one whole).
    for (const key of add.keys()) this.pushed.delete(key);
    void Promise.resolve()
      .then(() => call(request))
      .then(
        (response) => {
          if (!current()) return;
          this.lastCursor = response.cursor;
          for (const key of response.accepted) if (this.refs.has(key)) this.accepted.add(key);
          // The server never held a refused watch: its tabs do not send a remove for it.
          for (const refusal of response.refused) this.forget(refusal.watch, add.get(refusal.watch)?.tabs);
          for (const waiter of waiters) waiter.resolve(response);
        },
        (error: unknown) => {
          this.stats.failures++;
          if (!current()) return;
          // Unknown on the server: the tabs send these adds again; the removes go with the next request.
          for (const [key, pending] of add) {
            this.forget(key, pending.tabs);
            // Its next result may not be whole (the add may not have reached the server): the next tab sends its add.
            this.pushed.add(key);
          }
          for (const key of remove) if (!this.refs.has(key)) this.remove.add(key);
          for (const waiter of waiters) waiter.reject(error);
        },
      )
      .finally(() => {
        if (!current()) return;
        this.inFlight = false;
        if (this.dirty) this.flushSoon();
      });
  }

  /** The tabs whose add of `key` was refused or failed no longer count as holding it. */
  private forget(key: string, tabs: ReadonlySet<string> | undefined): void {
    const holding = this.refs.get(key);
    if (!holding || !tabs) return;
    // A tab that added it again meanwhile holds it if that later request is accepted.
    for (const tab of tabs) if (!this.add.get(key)?.tabs.has(tab)) holding.delete(tab);
    if (!holding.size) this.refs.delete(key);
  }
}
