import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Hub } from '../core';

/** Options of {@link createGracefulShutdown}. */
export interface GracefulShutdownOptions {
  /** The HTTP server serving the app and the live stream. */
  server: Server;
  /** The hub whose streams to drain. */
  hub: Hub;
  /** The fast transport, if mounted (its ping timer is stopped). */
  transport?: { close(): void } | null;
  /**
   * Longest wait for in-flight requests (e.g. mutations) before the remaining
   * connections are cut. @default 10_000
   */
  timeoutMs?: number;
  /**
   * Reconnect hints are spread uniformly over [0, jitterMs) so clients do not
   * all land on the next instance in the same instant. @default 2_000
   */
  jitterMs?: number;
  /** Progress lines. @default console.log */
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
  readonly ms: number;
}

/**
 * Drains a Node server that serves live streams, in this order:
 * 1. the hub starts draining: health answers 503, new streams are refused
 *    (retryable SERVICE_UNAVAILABLE);
 * 2. every open stream gets a `reconnect` hint with a jittered delay and is
 *    closed (clients resume elsewhere from their cursor);
 * 3. requests in flight (mutations) run to completion. Meanwhile the server
 *    keeps listening, so a load balancer's health check sees the 503 and new
 *    stream attempts get a retryable refusal; every response asks the client
 *    to close its connection;
 * 4. once nothing is in flight (or at `timeoutMs`, cutting what is left), the
 *    server stops listening and closes idle connections, then the hub and its
 *    backend close. Idempotent: a second call returns the first call's promise.
 */
export function createGracefulShutdown(options: GracefulShutdownOptions) {
  const { server, hub } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const log = options.log ?? ((line: string) => console.log(line));
  let inFlight = 0;
  let draining = false;
  let running: Promise<ShutdownReport> | null = null;
  let onIdle: (() => void) | null = null;

  // Counts requests in flight; once draining, every response asks the client to close the connection.
  const onRequest = (_req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      inFlight--;
      if (inFlight === 0) onIdle?.();
    };
    res.once('finish', finish);
    res.once('close', finish);
    if (draining && !res.headersSent) res.setHeader('connection', 'close');
  };
  server.prependListener('request', onRequest);

  function shutdown(signal = 'shutdown'): Promise<ShutdownReport> {
    running ??= (async () => {
      const started = Date.now();
      draining = true;
      const inFlightAtStart = inFlight;
      const streams = hub.drain({ jitterMs: options.jitterMs ?? 2_000 });
      options.transport?.close();
      log(`[server] ${signal}: draining — ${streams} live stream(s) told to reconnect, ${inFlightAtStart} request(s) in flight`);
      const deadline = started + timeoutMs;
      const timeout = (ms: number) => new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), Math.max(0, ms)).unref());
      // 3. Wait for in-flight requests (the streams just closed end within a tick).
      const idle = new Promise<'idle'>((resolve) => {
        onIdle = () => resolve('idle');
        if (inFlight === 0) resolve('idle');
      });
      let outcome: 'idle' | 'closed' | 'timeout' = await Promise.race([idle, timeout(deadline - Date.now())]);
      // 4. Stop listening; keep-alive sockets are closed as soon as they are idle.
      let cut = 0;
      const closed = new Promise<'closed'>((resolve) => server.close(() => resolve('closed')));
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      if (outcome !== 'timeout') outcome = await Promise.race([closed, timeout(deadline - Date.now())]);
      clearInterval(sweep);
      if (outcome === 'timeout') {
        cut = inFlight;
        log(`[server] drain timeout after ${timeoutMs} ms: cutting ${cut} request(s) still in flight`);
        server.closeAllConnections();
      }
      await hub.close().catch((error: unknown) => log(`[server] closing the hub failed: ${String(error)}`));
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
      return inFlight;
    },
  };
}

export type GracefulShutdown = ReturnType<typeof createGracefulShutdown>;
