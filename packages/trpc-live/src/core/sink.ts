import type { Lane, LiveMessage } from '../shared/messages.ts';

/**
 * One message ready for the wire. Frames of published signals are built once
 * per publish and shared by every recipient (same bytes, same cursor);
 * control frames are per connection and carry no cursor.
 */
export interface Frame {
  /** Sequence within `epoch`; 0 for control frames (the head for a fresh stream's `hello`). */
  readonly seq: number;
  /** The hub history the frame belongs to. */
  readonly epoch: string;
  /**
   * The SSE `id:` (a cursor), or `null` for control frames, which are never
   * replayable. The `hello` of a fresh stream carries the head: its starting point.
   */
  readonly id: string | null;
  /** Compaction/deduplication key (see `keyOf`). */
  readonly key: string;
  /** The topic it was published on. */
  readonly topic: string;
  /** The outbox lane that delivers it. */
  readonly lane: Lane;
  /** What the subscriber receives. */
  readonly message: LiveMessage;
  /** `message` serialized once with the hub's `serialize`. */
  readonly payload: string;
  /** Size used for outbox accounting (payload length). */
  readonly bytes: number;
  /** Only the latest frame per key matters (may be collapsed). */
  readonly idempotent: boolean;
  /**
   * Hub clock time the frame's latency metrics start from: its entry's
   * delivery by the hub (`PublishedEntry.deliveredAt`), for a pushed result
   * the delivery of the oldest change it reflects, else its build.
   */
  readonly publishedAt: number;
  /** Identity of the published signal, when its backend gives one (see `PublishedEntry.origin`). @default absent */
  readonly origin?: string;
  /** See `origin`. @default absent */
  readonly serial?: number;
  /** Cache slot for a transport's encoding of this frame (e.g. SSE text or bytes). */
  wire?: string | Uint8Array;
  /**
   * Set by the fan-out when it routes the frame (absent for frames it did not
   * route): at least the seq of every earlier frame of the same key it routed
   * in `epoch` during `routeStint`. An outbox appends a routed frame to its
   * pending run without a key lookup when this is below the run's first seq
   * (see `Outbox.push`).
   */
  sameKeyBefore?: number;
  /** The fan-out's routing stint `sameKeyBefore` is valid in (a new one at each epoch change). */
  routeStint?: number;
}

/** Why the hub closed a connection. */
export type CloseReason = 'drain' | 'closed' | 'rotate' | 'unauthorized' | 'error';

/**
 * Where a connection's frames go: the fast socket transport and the stock
 * tRPC route are two implementations. The hub never awaits a sink.
 */
export interface LiveSink {
  /** Writes frames in order, as one write. Must not throw. */
  write(frames: readonly Frame[]): void;
  /** Bytes accepted by the sink but not yet taken by the peer. */
  pendingBytes(): number;
  /** Calls `fn` once when the sink has room again (e.g. the socket's `'drain'`). */
  onDrain(fn: () => void): void;
  /** Ends the stream from the server side. Idempotent. */
  close(reason: CloseReason): void;
}
