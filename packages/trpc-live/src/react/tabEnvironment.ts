// The browser APIs a tab uses to share the live stream, as small interfaces a test can stand in for, and their
// defaults from the global scope (absent in Node and in old browsers, where a tab runs its stream standalone).

/** The parts of the Web Locks API used (`navigator.locks`). */
export interface LockManagerLike {
  /** Runs `callback` while holding the exclusive lock `name` (waits for it; `signal` abandons the wait). */
  request(name: string, options: { signal?: AbortSignal }, callback: (lock: unknown) => Promise<void>): Promise<unknown>;
}

/** The parts of `BroadcastChannel` used. */
export interface ChannelLike {
  /** Sends a message to the other tabs on the channel. */
  postMessage(message: unknown): void;
  /** Leaves the channel. */
  close(): void;
  /** Receives the other tabs' messages. */
  onmessage: ((event: { data: unknown }) => void) | null;
}

/** The parts of `document` / `window` used: visibility and page lifecycle events. */
export interface PageLike {
  /** `'visible'` or `'hidden'` (a document's); absent on a window. */
  readonly visibilityState?: string;
  /** Listens to `visibilitychange`, `pagehide` or `pageshow`. */
  addEventListener(type: string, listener: () => void): void;
  /** Stops listening. */
  removeEventListener(type: string, listener: () => void): void;
}

/** The browser APIs a tab uses for the shared stream; `null` where one is missing. */
export interface TabEnvironment {
  /** Elects the tab that holds the stream. */
  readonly locks: LockManagerLike | null;
  /** Opens a channel by name: the one the holder relays on, and each tab's inbox. */
  readonly channel: ((name: string) => ChannelLike) | null;
  /** Visibility source. */
  readonly document: PageLike | null;
  /** Page lifecycle source (`pagehide`, `pageshow`). */
  readonly window: PageLike | null;
}

function defaultLocks(): LockManagerLike | null {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return nav?.locks && typeof nav.locks.request === 'function' ? nav.locks : null;
}

function defaultChannel(): ((name: string) => ChannelLike) | null {
  const Ctor = (globalThis as { BroadcastChannel?: new (name: string) => ChannelLike }).BroadcastChannel;
  return typeof Ctor === 'function' ? (name) => new Ctor(name) : null;
}

const globalPage = (key: 'document' | 'window'): PageLike | null =>
  ((globalThis as Record<string, unknown>)[key] as PageLike | undefined) ?? null;

/** What `given` names (`null` included: "not available"), the global scope's API for what it leaves `undefined`. */
export function resolveTabEnvironment(given: Partial<TabEnvironment>): TabEnvironment {
  return {
    locks: given.locks === undefined ? defaultLocks() : given.locks,
    channel: given.channel === undefined ? defaultChannel() : given.channel,
    document: given.document === undefined ? globalPage('document') : given.document,
    window: given.window === undefined ? globalPage('window') : given.window,
  };
}
