import { tracked, type TrackedEnvelope } from '@trpc/server';
import type { CloseReason, ConnectionGroups, Frame, Hub, LiveConnection, LiveMessage, LiveSink } from '../core/index.ts';
import { serverClosedStream } from './retryHint.ts';
import { streamEnd } from './closePolicy.ts';
import { toTRPCError } from './toTRPCError.ts';

/** What a live stream asks the hub for, after auth and validation. */
export interface LiveStreamRequest {
  /** The tenant the stream belongs to; it receives that scope's signals only. */
  readonly scope: string;
  /** Topic patterns to receive. @default ['>'] (everything in the scope) */
  readonly topics?: readonly string[];
  /** The connection's attributes, which publishes' group filters match. @default {} */
  readonly groups?: ConnectionGroups;
  /** The cursor to resume from (the last SSE id the client saw). @default null: a fresh stream */
  readonly lastEventId?: string | null;
  /** When the credential behind the stream expires (ms since the epoch); the stream then ends with UNAUTHORIZED. */
  readonly expiresAt?: number;
}

/** One item of a live subscription: data frames are tracked (carry a cursor), control frames are not. */
export type LiveStreamItem = TrackedEnvelope<LiveMessage> | LiveMessage;

const LIVE_STREAM = Symbol.for('trpc-live.stream');

/**
 * The value a live subscription procedure returns. Iterating it (stock tRPC
 * route, `createCaller`) connects to the hub and yields frames; the fast
 * transport instead reads {@link request} and attaches its socket to the hub,
 * so both paths share the procedure's context, input parsing and middleware.
 */
export class LiveStream implements AsyncIterable<LiveStreamItem> {
  /** Brand read by {@link isLiveStream} (a registered symbol, so it is found across copies of the package). */
  readonly [LIVE_STREAM] = true;

  constructor(
    /** The hub the stream connects to. */
    readonly hub: Hub,
    /** What the stream asks the hub for (scope, topics, groups, cursor). */
    readonly request: LiveStreamRequest,
    private readonly signal?: AbortSignal,
  ) {}

  /**
   * Attaches `sink` to the hub with this stream's request: what the fast
   * transport does instead of iterating. Hub errors come out as the tRPC
   * errors the stock route would send (see {@link toTRPCError}).
   */
  connect(sink: LiveSink): LiveConnection {
    try {
      return this.hub.connect({ ...this.request, sink });
    } catch (cause) {
      throw toTRPCError(cause);
    }
  }

  /** Connects to the hub and yields its frames until the client leaves (the abort signal) or the hub closes the stream. */
  [Symbol.asyncIterator](): AsyncIterator<LiveStreamItem> {
    return iterate(this, this.signal);
  }
}

/** True for the value a live subscription procedure returns. */
export function isLiveStream(value: unknown): value is LiveStream {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[LIVE_STREAM] === true;
}

/** Sink that queues frames for an async consumer (the stock tRPC SSE pipeline). */
class QueueSink implements LiveSink {
  readonly queue: Frame[] = [];
  private bytes = 0;
  private drainWaiters: Array<() => void> = [];
  closedWith: CloseReason | null = null;
  wake: (() => void) | null = null;

  write(frames: readonly Frame[]): void {
    for (const frame of frames) {
      this.queue.push(frame);
      this.bytes += frame.bytes;
    }
    this.notify();
  }

  pendingBytes(): number {
    return this.bytes;
  }

  onDrain(fn: () => void): void {
    this.drainWaiters.push(fn);
  }

  close(reason: CloseReason): void {
    this.closedWith ??= reason;
    this.notify();
  }

  shift(): Frame | undefined {
    const frame = this.queue.shift();
    if (frame) this.bytes -= frame.bytes;
    if (!this.queue.length && this.drainWaiters.length) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const fn of waiters) fn();
    }
    return frame;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

function iterate(stream: LiveStream, signal?: AbortSignal): AsyncIterator<LiveStreamItem> {
  const sink = new QueueSink();
  let connection: LiveConnection | null = null;
  let done = false;

  const finish = (): IteratorReturnResult<undefined> => {
    done = true;
    signal?.removeEventListener('abort', onAbort);
    connection?.dispose();
    connection = null;
    return { done: true, value: undefined };
  };
  const onAbort = () => sink.close('closed');

  return {
    async next(): Promise<IteratorResult<LiveStreamItem>> {
      if (done) return { done: true, value: undefined };
      if (!connection) {
        if (signal?.aborted) return finish();
        signal?.addEventListener('abort', onAbort, { once: true });
        connection = stream.connect(sink);
      }
      while (true) {
        const frame = sink.shift();
        if (frame) {
          return { done: false, value: frame.id === null ? frame.message : tracked(frame.id, frame.message) };
        }
        if (sink.closedWith || signal?.aborted) {
          // The client left (abort) when the hub did not close the stream: a normal end.
          const end = streamEnd(sink.closedWith ?? 'closed');
          finish();
          // `reconnect` must not end with `return` (it would stop the client): the stream ends silently
          // and the route adds the hint's `retry:`, as the fast transport writes it.
          if (end.kind === 'reconnect') throw serverClosedStream();
          if (end.kind === 'error') throw end.error;
          return { done: true, value: undefined };
        }
        // Tied to the request's signal: an abort closes the sink, which wakes us.
        await new Promise<void>((resolve) => {
          sink.wake = resolve;
        });
      }
    },
    async return(): Promise<IteratorResult<LiveStreamItem>> {
      return finish();
    },
  };
}
