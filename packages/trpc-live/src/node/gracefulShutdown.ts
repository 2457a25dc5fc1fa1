import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import type { Hub } from '../core/index.ts';
import { consoleLogger, type LiveLogger } from '../shared/logger.ts';

/** Options of {@link createGracefulShutdown}. */
export interface GracefulShutdownOptions {
  /** The HTTP server serving the app and the live stream. */
  server: Server;
  /** The hub whose streams to drain. */
  hub: Hub;
  /** The fast transport, if mounted (its ping timer is stopped). @default null: none mounted */
  transport?: { close(): void } | null;
  /**
   * How long the server keeps accepting after the signal, answering every
   * request (health 503, everything with `Connection: close`), so a load
   * balancer sees the 503 and stops routing here before the listener closes.
   * @default 5_000
   */
  graceMs?: number;
  /**
   * Longest wait, after the grace, for in-flight requests (e.g. mutations)
   * before the remaining connections are cut. @default 10_000
   */
  timeoutMs?: number;
  /**
   * Reconnect hints are spread uniformly over [0, jitterMs) so clients do not
   * all land on the next instance in the same instant. @default 2_000
   */
  jitterMs?: number;
  /**
   * After the grace, an idle keep-alive connection is closed once nothing has
   * arrived on it for this long. @default 250
   */
  idleCloseMs?: number;
  /**
   * Where progress lines go (`info`, or `warn` when the logger has no
   * `info`) and a failure to close the hub (`error`). @default consoleLogger
   */
  logger?: LiveLogger;
  /**
   * Every line, instead of `logger` (kept for callers from before `logger`).
   * @deprecated Use `logger`.
   * @default none
   */
  log?: (line: string) => void;
}

/** How a shutdown ended. */
export interface ShutdownReport {
  /** Streams told to reconnect. */
  readonly streams: number;
  /** Requests that were still in flight when the drain began. */
  readonly inFlightAtStart: number;
  /** Connections cut at the timeout (0 for a clean drain). */
  readonly cut: number;
  /** How long the shutdown took, from the call to the hub's close, in ms. */
  readonly ms: number;
}

/** What the drain knows of one connection. */
interface ConnectionState {
  /** Requests being answered on it. */
  active: number;
  /** `socket.bytesRead` when last looked at: a change means a request is arriving. */
  bytesRead: number;
  /** When it last became quiet (connected, answered, or bytes seen). */
  quietSince: number;
}

/** How often idle connections are looked at after the grace. */
const IDLE_SWEEP_MS = 50;

/**
 * Drains a Node server that serves live streams, in this order:
 * 1. the hub starts draining: health answers 503, new streams are refused
 *    (retryable SERVICE_UNAVAILABLE); every open stream gets a `reconnect`
 *    hint with a jittered delay and is closed (clients resume elsewhere from
 *    their cursor);
 * 2. for `graceMs` the server keeps accepting and answers every request, each
 *    with `Connection: close` (responses already started excepted), so
 *    neither a load balancer that has not seen the 503 yet nor a client
 *    reusing a pooled connection meets a refusal or a reset;
 * 3. then it stops accepting. A keep-alive connection is closed only once no
 *    request is in flight on it and no byte has arrived on it for
 *    `idleCloseMs`: a request already on its way is answered, not reset
 *    (Node's own `server.close()` would destroy every connection whose parser
 *    is idle at once, including one accepted a moment ago whose request is
 *    still on the wire);
 * 4. once every connection is gone (or `timeoutMs` after the grace, cutting
 *    what is left), the hub and its backend close. Idempotent: a second call
 *    returns the first call's promise.
 */
export function createGracefulShutdown(options: GracefulShutdownOptions) {
  const { server, hub } = options;
  const graceMs = options.graceMs ?? 5_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const idleCloseMs = options.idleCloseMs ?? 250;
  const logger = options.logger ?? consoleLogger;
  const log = options.log ?? ((line: string) => (logger.info ? logger.info(line) : logger.warn(line)));
  const logError = options.log ?? ((line: string) => logger.error(line));
  const connections = new Map<Socket, ConnectionState>();
  const responses = new Set<ServerResponse>();
  let draining = false;
  let running: Promise<ShutdownReport> | null = null;

  // Listeners shared by every socket and response (`this` is the emitter), not a closure and
  // once-wrappers per request: those were ~0.5 KB of what an idle live stream held (heap
  // snapshot of 1,000 fast-transport streams, 2026-12-07).
  function untrack(this: Socket): void {
    connections.delete(this);
  }
  const track = (socket: Socket): ConnectionState => {
    let state = connections.get(socket);
    if (!state) {
      state = { active: 0, bytesRead: socket.bytesRead, quietSince: Date.now() };
      connections.set(socket, state);
      socket.on('close', untrack);
    }
    return state;
  };
  server.prependListener('connection', track);

  /** A response finished or its connection closed (both may come; the first counts). */
  function finish(this: ServerResponse): void {
    if (!responses.delete(this)) return;
    const socket = this.req.socket;
    const state = connections.get(socket);
    if (!state) return;
    state.active--;
    state.quietSince = Date.now();
    state.bytesRead = socket.bytesRead;
  }

  // Counts requests in flight per connection; once draining, every response asks the client to close the connection.
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const state = track(req.socket);
    state.active++;
    responses.add(res);
    res.on('finish', finish);
    res.on('close', finish);
    if (draining) res.setHeader('connection', 'close');
  };
  server.prependListener('request', onRequest);

  /** Closes the connections that are idle and have been quiet for `idleCloseMs`. */
  const closeQuietConnections = () => {
    const now = Date.now();
    for (const [socket, state] of connections) {
      if (state.active > 0) continue;
      if (socket.bytesRead !== state.bytesRead) {
        // Part of a request arrived (its headers are not complete yet): wait for it and answer it.
        state.bytesRead = socket.bytesRead;
        state.quietSince = now;
      } else if (now - state.quietSince >= idleCloseMs) {
        socket.destroy();
      }
    }
  };

  function shutdown(signal = 'shutdown'): Promise<ShutdownReport> {
    running ??= (async () => {
      const started = Date.now();
      draining = true;
      const inFlightAtStart = responses.size;
      for (const res of responses) if (!res.headersSent) res.setHeader('connection', 'close');
      const streams = hub.drain({ jitterMs: options.jitterMs ?? 2_000 });
      options.transport?.close();
      log(
        `[server] ${signal}: draining — ${streams} live stream(s) told to reconnect, ${inFlightAtStart} request(s) in flight; still accepting for ${graceMs} ms`,
      );
      const sleep = (ms: number) => new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), Math.max(0, ms)).unref());
      // 2. The grace: keep accepting and answering.
      await sleep(graceMs);
      // 3. Stop accepting. net.Server's close, not http.Server's: see above.
      const closed = new Promise<'closed'>((resolve) => NetServer.prototype.close.call(server, () => resolve('closed')));
      log(`[server] grace over: no longer accepting; ${connections.size} connection(s) open, ${responses.size} request(s) in flight`);
      closeQuietConnections();
      const sweep = setInterval(closeQuietConnections, IDLE_SWEEP_MS);
      const outcome = await Promise.race([closed, sleep(timeoutMs)]);
      clearInterval(sweep);
      let cut = 0;
      if (outcome === 'timeout') {
        cut = responses.size;
        log(`[server] drain timeout ${timeoutMs} ms after the grace: cutting ${cut} request(s) still in flight`);
        server.closeAllConnections();
        for (const socket of connections.keys()) socket.destroy();
      }
      await hub.close().catch((error: unknown) => logError(`[server] closing the hub failed: ${String(error)}`));
      const report = { streams, inFlightAtStart, cut, ms: Date.now() - started };
      log(`[server] drained in ${report.ms} ms`);
      return report;
    })();
    return running;
  }

  return {
    shutdown,
    /** True once {@link shutdown} was called. */
    get draining() {
      return draining;
    },
    /** Requests being served now. */
    get inFlight() {
      return responses.size;
    },
  };
}

/** The drain controller {@link createGracefulShutdown} returns (start it on SIGTERM; read its state for health). */
export type GracefulShutdown = ReturnType<typeof createGracefulShutdown>;
