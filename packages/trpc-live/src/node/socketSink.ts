import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TRPCError } from '@trpc/server';
import type { CloseReason, Frame, LiveSink } from '../core/index.ts';
import { streamEnd } from '../trpc/closePolicy.ts';
import type { Heartbeat, HeartbeatMember } from './heartbeat.ts';
import { chunkBody, httpChunk, joinChunks } from './httpChunk.ts';
import { SSE_PING, SSE_RETURN, sseRetry, sseTracked, sseUntracked } from './sseFormat.ts';

const EMPTY = Buffer.alloc(0);
/** Where a response keeps its sink, for the listeners every response shares. */
const SINK = Symbol('trpc-live.socketSink');
type SinkResponse = ServerResponse & { [SINK]?: SocketSink };

/**
 * The reason every sink's request signal aborts with when its peer leaves:
 * an `AbortError`, as `abort()` without a reason would make, but built once.
 * A fresh one per stream (a DOMException and its stack) was ~0.01 ms of each
 * reconnect's server CPU (profile of a 3,000-stream storm, 2026-12-07).
 */
const PEER_GONE: DOMException = new DOMException('The client left: the live stream ended', 'AbortError');

/** A character outside ASCII (where latin1 and UTF-8 bytes differ). */
const NON_ASCII = /[^\x00-\x7f]/;

/** The ping as one HTTP chunk, built once for every stream and tick. */
const PING_CHUNK = httpChunk(SSE_PING);

/**
 * node:http builds a response's head by appending each header line to a
 * string it keeps (`_header`) for the response's life: a rope of ~28
 * pieces, ~0.9 KB of each idle stream's heap (snapshot of 1,000 streams).
 * Reading a character makes V8 flatten it in place (~0.2 KB). Only a read;
 * where the field is absent or not a string, nothing happens.
 */
function flattenHead(res: ServerResponse): void {
  const head = (res as { _header?: unknown })._header;
  if (typeof head === 'string') head.charCodeAt(0);
}

/**
 * The last multi-frame write's frames and bytes, for the next sink that
 * writes the very same frames: during a burst, streams flushed in one slice
 * usually take the same run of shared frames, and then get the same bytes
 * without joining them again (a 200-event burst to 1,000 streams spent ~10%
 * of the server's CPU copying frames into each stream's write, profile
 * 2026-12-07). Only writes of shared (cursored, encoded once) frames.
 */
let lastJoin: { readonly frames: readonly Frame[]; readonly chunk: Uint8Array } | null = null;

/** The bytes of the last write when `frames` are the same frame objects in the same order, else `null`. */
function sharedJoin(frames: readonly Frame[]): Uint8Array | null {
  const last = lastJoin;
  if (last === null || last.frames.length !== frames.length) return null;
  for (let i = 0; i < frames.length; i++) if (last.frames[i] !== frames[i]) return null;
  return last.chunk;
}

/** Keeps `chunk` for the next write of the same frames, when every frame is shared (cursored) and so encoded alike for every stream. */
function rememberJoin(frames: readonly Frame[], chunk: Uint8Array): void {
  for (const frame of frames) {
    if (frame.id === null || !(frame.wire instanceof Uint8Array)) return;
  }
  lastJoin = { frames: [...frames], chunk };
}

/** What a {@link SocketSink} needs from its transport. */
export interface SocketSinkHost {
  /** The set of open streams; visits them to send pings. */
  readonly heartbeat: Heartbeat<SocketSink>;
  /** Ends a stream after this long (tRPC's `sse.maxDurationMs`), without `return`, so the client reconnects. @default none */
  readonly maxDurationMs?: number;
  /** The `serialized-error` event text for `error`, which ends a stream the close policy ends with an error (`streamEnd`). */
  errorEvent(error: TRPCError): string;
}

/** Anything the sink can free when the peer leaves (a hub connection). */
interface Disposable {
  dispose(): void;
}

/**
 * A hub sink over a raw `ServerResponse`, speaking tRPC's SSE protocol.
 *
 * Every write is synchronous: the frames a connection has pending are
 * encoded (a published frame once, as one HTTP chunk cached in `frame.wire`
 * for every recipient) and handed to the socket as one chunk in one
 * `socket.write`: a lone frame's cached bytes as they are, several frames'
 * bytes joined under one size line (`httpChunk.ts`). Straight to the socket
 * once the response head is out, since `res.write` would measure the text's
 * UTF-8 length and write a size line, the text and a CRLF as three pieces on
 * every call; the first write carries the head node:http built, in the same
 * string (`writeFirst`). Backpressure is the socket's own buffer (`writableLength`,
 * `'drain'`). No streams, generators or promises per event.
 *
 * Security/zombie duty: when the socket closes or errors, the hub connection
 * is disposed and the request's abort signal fires, in the same tick.
 */
export class SocketSink implements LiveSink, HeartbeatMember {
  private connection: Disposable | null = null;
  /** Text held until {@link attach}: the preamble plus what the hub writes while connecting. */
  private held: string | null = null;
  /** The id the client's EventSource holds; drives tRPC's `restore-id` dance. */
  private lastEventId: string | null = null;
  /** Reconnect delay from the last `reconnect` control frame, sent as `retry:` on close. */
  private retryMs: number | null = null;
  /** Wrote something since the last heartbeat tick. */
  private active = true;
  private ended = false;
  private openedAt = 0;
  /** {@link onDrain} callbacks waiting for the socket to empty (one probe write in flight for all). */
  private drainWaiters: Array<() => void> | null = null;
  /** The socket chunks go straight to, `null` when they go through the response, `undefined` until the head is out. */
  private direct: Socket | null | undefined = undefined;
  private readonly abortController = new AbortController();

  constructor(
    private readonly res: ServerResponse,
    private readonly host: SocketSinkHost,
  ) {
    (res as SinkResponse)[SINK] = this;
    res.on('close', SocketSink.peerGone);
    // An unhandled 'error' on a response would crash the server.
    res.on('error', SocketSink.peerGone);
  }

  /**
   * The 'close' and 'error' listener of every sink's response (`this` is the
   * response): one function for all, not a closure and a once-wrapper per
   * stream (~0.2 KB of an idle stream's heap, snapshot of 1,000 streams).
   */
  private static readonly peerGone = function (this: ServerResponse): void {
    (this as SinkResponse)[SINK]?.onPeerGone();
  };

  /** Aborts when the peer leaves or the stream ends (given to the procedure as `opts.signal`). */
  get signal(): AbortSignal {
    return this.abortController.signal;
  }

  /** True once the peer left or the stream ended. */
  get done(): boolean {
    return this.ended;
  }

  /**
   * Sends the response head and holds `preamble` (the `connected` event) so
   * it leaves with the hub's first frames in one write.
   */
  begin(headers: OutgoingHttpHeaders, preamble: string, lastEventId: string | null): void {
    this.res.writeHead(200, headers);
    flattenHead(this.res);
    this.held = preamble;
    this.lastEventId = lastEventId;
  }

  /** Answers with the held preamble and `text` (e.g. a `serialized-error`), then ends. */
  fail(text: string): void {
    this.end(text);
  }

  /** Starts live delivery for `connection`: flushes what was held and joins the heartbeat. */
  attach(connection: Disposable): void {
    if (this.ended) {
      connection.dispose();
      return;
    }
    this.connection = connection;
    this.openedAt = Date.now();
    const held = this.held;
    this.held = null;
    if (held) this.writeFirst(held);
    if (this.drainWaiters) this.probeDrain();
    this.host.heartbeat.add(this);
  }

  write(frames: readonly Frame[]): void {
    if (this.ended) return;
    if (this.held !== null) {
      for (const frame of frames) this.held += this.textOf(frame);
      return;
    }
    if (frames.length === 1) {
      this.send(this.chunkOf(frames[0]!));
      return;
    }
    const joined = sharedJoin(frames);
    if (joined !== null) {
      this.lastEventId = frames[frames.length - 1]!.id;
      this.send(joined);
      return;
    }
    const chunks: Uint8Array[] = [];
    for (const frame of frames) chunks.push(this.chunkOf(frame));
    const chunk = joinChunks(chunks);
    rememberJoin(frames, chunk);
    this.send(chunk);
  }

  /** A frame's SSE text (held before attach), noting the stream's last id and retry delay. */
  private textOf(frame: Frame): string {
    if (frame.id !== null) {
      this.lastEventId = frame.id;
      return typeof frame.wire === 'string' ? frame.wire : sseTracked(frame.payload, frame.id);
    }
    if (frame.message.kind === 'reconnect') this.retryMs = frame.message.afterMs;
    return sseUntracked(frame.payload, this.lastEventId);
  }

  /** A frame as one HTTP chunk, noting the stream's last id and retry delay. */
  private chunkOf(frame: Frame): Uint8Array {
    if (frame.id !== null) {
      this.lastEventId = frame.id;
      const wire = frame.wire;
      if (wire instanceof Uint8Array) return wire;
      // Same bytes, cursor included, for every recipient: encoded and framed once.
      const chunk = httpChunk(wire ?? sseTracked(frame.payload, frame.id));
      frame.wire = chunk;
      return chunk;
    }
    if (frame.message.kind === 'reconnect') this.retryMs = frame.message.afterMs;
    return httpChunk(sseUntracked(frame.payload, this.lastEventId));
  }

  /** Writes one HTTP chunk: straight to the socket where the response would frame it the same way, else its bytes through the response. */
  private send(chunk: Uint8Array): void {
    this.active = true;
    if (this.direct === undefined && this.res.headersSent) this.direct = this.directSocket();
    const socket = this.direct;
    if (socket === undefined || socket === null) {
      this.writeRaw(chunkBody(chunk));
      return;
    }
    // A destroyed socket drops writes without calling back; its 'close' disposes the connection.
    if (socket.destroyed) return;
    try {
      socket.write(chunk);
    } catch {
      // Destroyed under us: 'close' cleans up.
    }
  }

  /**
   * The response's socket when the response would send a write's bytes
   * straight to it as one chunk: chunked framing, head already written,
   * nothing of its own queued, and the socket serving this response (not an
   * earlier pipelined one). `outputSize` and `_httpMessage` are node:http's
   * own fields (Node 20-24), read once per stream; any doubt keeps the
   * response's path.
   */
  private directSocket(): Socket | null {
    const res = this.res as ServerResponse & { outputSize?: number };
    const socket = res.socket as (Socket & { _httpMessage?: unknown }) | null;
    if (socket === null || !res.chunkedEncoding || res.outputSize !== 0 || socket._httpMessage !== res) return null;
    return socket;
  }

  pendingBytes(): number {
    if (this.held !== null) return this.held.length;
    return this.ended ? 0 : this.res.writableLength;
  }

  /**
   * Calls `fn` once everything written so far has left the process. Not the
   * response's `'drain'` event: that one only fires after a write crossed the
   * socket's high-water mark, so a small backlog would never report. When
   * bytes are pending, an empty write to the socket carries the callback:
   * a stream calls write callbacks in order, so it fires once the bytes
   * before it are handed to the kernel. Writes themselves carry no callback
   * (a callback per write costs a tick per recipient of every fan-out).
   */
  onDrain(fn: () => void): void {
    if (this.ended) return;
    const socket = this.res.socket;
    if (this.held === null && (this.res.writableLength === 0 || socket === null)) {
      setImmediate(fn);
      return;
    }
    if (this.drainWaiters) {
      this.drainWaiters.push(fn);
      return;
    }
    this.drainWaiters = [fn];
    // Held text (not attached yet) leaves on attach; a probe then would jump ahead of it.
    if (this.held === null) this.probeDrain();
  }

  /**
   * Ends the stream from the server side as the close policy (`streamEnd`)
   * says, in the bytes the stock route sends: `return` → tRPC's `return`
   * event; `reconnect` → neither `return` nor an error event, so EventSource
   * reconnects (after the `retry:` delay of a preceding `reconnect` frame,
   * when there was one) and resumes from its cursor; `error` → a
   * `serialized-error` event.
   */
  close(reason: CloseReason): void {
    if (this.ended) return;
    // The hub disposed the connection before calling us.
    this.connection = null;
    const end = streamEnd(reason);
    let tail = '';
    if (end.kind === 'error') tail = this.host.errorEvent(end.error);
    else if (end.kind === 'return') tail = SSE_RETURN;
    else if (this.retryMs !== null) tail = sseRetry(this.retryMs);
    this.end(tail);
  }

  /** Heartbeat tick: a ping when nothing was written for a whole tick; expiry after `maxDurationMs`. */
  beat(now: number): void {
    if (this.ended) return;
    const max = this.host.maxDurationMs;
    if (max !== undefined && now - this.openedAt >= max) {
      this.release();
      this.end('');
      return;
    }
    if (this.active) {
      this.active = false;
      return;
    }
    this.send(PING_CHUNK);
  }

  /**
   * The stream's first bytes: the response head and `text` (the preamble, hello and replay) as one HTTP chunk,
   * in ONE `socket.write` of one string when node:http would send exactly those bytes (see {@link headSocket});
   * else through the response. Through the response, the corked head, size line, text and CRLF leave as a
   * four-piece `writev` whose write request completes in a later callback; one string written whole completes
   * at once. Accepting, answering and closing 4,000 connections this way cost ~21 µs less server CPU each
   * (233 vs 254 µs, 5 runs each, /tmp harness beside other work, 2026-12-07): ~4 % of a reconnect in the capacity
   * soak's storm.
   */
  private writeFirst(text: string): void {
    const socket = this.headSocket();
    if (socket === null) {
      this.writeRaw(text);
      return;
    }
    this.active = true;
    const res = this.res as ServerResponse & { _header: string; _headerSent: boolean };
    try {
      socket.write(`${res._header}${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
    } catch {
      // Destroyed under us: 'close' cleans up.
    }
    // What `res.write` sets once it sent the head: later writes (the response's own end) must not send it again.
    res._headerSent = true;
    this.direct = socket;
  }

  /**
   * The socket the head can go to together with the first chunk, or `null`: what {@link directSocket} asks
   * (chunked framing, nothing of node:http's own queued, the socket serving this response), on a socket that is
   * neither destroyed nor corked, and node:http has built the head (`_header`) but not sent it (`_headerSent`).
   * The head must be ASCII: node:http sends it as latin1, the combined string goes as UTF-8, which is the same
   * bytes only for ASCII (a header value may hold latin1 characters). `_header` and `_headerSent` are node:http's
   * own fields (Node 20-24); any doubt keeps the response's path.
   */
  private headSocket(): Socket | null {
    const socket = this.directSocket();
    if (socket === null || socket.destroyed || socket.writableCorked) return null;
    const res = this.res as ServerResponse & { _header?: unknown; _headerSent?: unknown };
    if (typeof res._header !== 'string' || res._headerSent !== false) return null;
    return NON_ASCII.test(res._header) ? null : socket;
  }

  private writeRaw(text: string | Uint8Array): void {
    this.active = true;
    // A destroyed socket drops writes without calling back; its 'close' disposes the connection.
    if (this.res.destroyed) return;
    // Corked around the write, the response's chunk (size line, text, CRLF) leaves in one
    // syscall now, inside the hub's slice that paid for it, instead of from a nextTick the
    // response would schedule per write to uncork (a tick per recipient of a fan-out).
    const socket = this.res.socket;
    const cork = socket !== null && !socket.writableCorked;
    if (cork) socket.cork();
    try {
      this.res.write(text);
    } catch {
      // Destroyed under us: 'close' cleans up.
    } finally {
      if (cork) socket.uncork();
    }
  }

  /** Writes nothing to the socket, with a callback that fires the drain waiters once what precedes it left. */
  private probeDrain(): void {
    const socket = this.res.socket;
    const fire = () => {
      const waiters = this.drainWaiters;
      this.drainWaiters = null;
      if (waiters) for (const fn of waiters) fn();
    };
    if (socket === null || this.res.writableLength === 0) {
      setImmediate(fire);
      return;
    }
    try {
      // Straight to the socket, not through the response: an empty chunk there would end chunked framing.
      socket.write(EMPTY, fire);
    } catch {
      // Destroyed: 'close' disposes the connection; waiters are moot.
    }
  }

  private end(tail: string): void {
    if (this.ended) return;
    this.ended = true;
    this.host.heartbeat.delete(this);
    const text = (this.held ?? '') + tail;
    this.held = null;
    try {
      this.res.end(text);
    } catch {
      // Already destroyed.
    }
  }

  private release(): void {
    const connection = this.connection;
    this.connection = null;
    connection?.dispose();
  }

  /** The socket closed or errored (or the response finished): free everything now. */
  private onPeerGone(): void {
    if (!this.ended) {
      this.ended = true;
      this.held = null;
      this.host.heartbeat.delete(this);
    }
    this.release();
    this.abortController.abort(PEER_GONE);
  }
}
