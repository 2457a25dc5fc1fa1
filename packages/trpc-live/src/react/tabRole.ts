import type { LiveInvalidator } from '../client/index.ts';
import type { LiveMessage } from '../shared/messages.ts';
import type { Envelope } from './tabChannel.ts';
import type { LiveTabRole, TabStatus } from './tabStatus.ts';

/** Something that can be unsubscribed (a tRPC subscription). */
export interface Unsubscribable {
  /** Stops the subscription; calling it twice is harmless. */
  unsubscribe(): void;
}

/** What the subscription tells the shared stream about its transport. */
export interface StreamEvents {
  /** The stream is down (the transport is reconnecting, or gave up). */
  disconnected(): void;
}

/** What createSharedLiveStream gives each role of its tab. */
export interface TabContext {
  /** The tab's invalidator. */
  readonly invalidator: LiveInvalidator;
  /** The tab's status, which its current role keeps. */
  readonly status: TabStatus;
  /** Whether this tab's page is visible. */
  visible(): boolean;
  /** Opens the live subscription (`SharedLiveStreamOptions.open`). */
  readonly open: (lastEventId: string | null, events: StreamEvents) => Unsubscribable;
  /** Pauses or resumes a connection on the server (`SharedLiveStreamOptions.setPaused`). */
  readonly setPaused: ((connectionId: string, paused: boolean) => unknown) | undefined;
  /** How long every tab must stay hidden before the pause (`SharedLiveStreamOptions.pauseAfterMs`). */
  readonly pauseAfterMs: number;
}

/**
 * One thing a tab can be for the shared stream. createSharedLiveStream holds
 * one role at a time and forwards the tab's events to it; a role keeps its
 * own state and nothing of the others'.
 */
export interface TabRole {
  /** The role's name in the tab's status. */
  readonly name: LiveTabRole;
  /** Starts the role (after createSharedLiveStream made it current: its stream may deliver at once). */
  start(): void;
  /** A message the invalidator received: from this role's stream, or a relay it applied itself. */
  received(message: LiveMessage): void;
  /** A server render's cursor the invalidator could not settle from what it saw. */
  seeded(cursor: string): void;
  /** Another tab's envelope (`census` is answered for every role by createSharedLiveStream). */
  heard(envelope: Envelope): void;
  /** This tab's page was shown or hidden. */
  visibilityChanged(): void;
  /** This tab's page came back from the back/forward cache (it had said bye when it went in). */
  pageShown(): void;
  /** Stops what the role runs: its stream, its timer. */
  stop(): void;
}
