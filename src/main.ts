/**
 * Production entry: one Node HTTP server for the Next.js app and the live
 * transport. `node dist/main.js` (built by `npm run build`); `--dev` runs
 * Next in development mode.
 *
 * GET /api/trpc/live.stream is served by the fast live transport
 * (`trpc-live/node`): the same tRPC procedure, context and middleware as the
 * stock route, attached straight to the hub. Everything else, including any
 * live request the transport declines, goes to Next. `LIVE_TRANSPORT=stock`
 * turns the fast transport off, so the stock tRPC route serves the stream
 * (to compare both in one build). `GET /api/health` is answered here too,
 * by the health route's own handler.
 *
 * Next's route bundles are separate module instances from this file: the
 * hub and the database are shared through `globalThis` (see
 * `server/appHub.ts`, `server/db/database.ts`).
 */
import { createServer, type ServerResponse } from 'node:http';
import next from 'next';
import { trustedProxies } from './server/auth/clientAddress';
import { getAuthConfig } from './server/auth/config';
import { getDb } from './server/db/database';
import { appEnv } from './server/env';
import { applyHttpTimeouts } from './server/httpTimeouts';
import { getHub, hubReady } from './server/appHub';
import { HEALTH_HEADERS, healthReport } from './server/health';
import { createAppLiveTransport } from './server/appLiveTransport';
import { startMetricsListener } from './server/metricsListener';
import { hasMalformedPath } from './server/requestPath';
import { createGracefulShutdown, nodeHandlerFromFetch } from 'trpc-live/node';
import { handleTrpcRequestFrom, TRPC_ENDPOINT } from './server/trpcHandler';

const dev = process.argv.includes('--dev');

async function main() {
  // Every variable, parsed first: a malformed one stops startup here, naming it (server/env.ts).
  const env = appEnv();
  const port = env.PORT;
  const hostname = env.HOST;
  const transportMode = env.LIVE_TRANSPORT;
  // tRPC's HTTP API (queries, mutations) is served by this process through the same fetch handler the
  // Next route exports, minus Next's route runtime; TRPC_HTTP=next leaves it to the Next route.
  const trpcMode = env.TRPC_HTTP;
  const drain = {
    // `next dev` stops at once on Ctrl-C; a production instance keeps answering while its load balancer notices.
    graceMs: env.LIVE_DRAIN_GRACE_MS ?? (dev ? 0 : 5_000),
    timeoutMs: env.LIVE_DRAIN_TIMEOUT_MS,
    jitterMs: env.LIVE_DRAIN_JITTER_MS,
  };
  // Open (migrate, seed) the database before serving, so a bad DATA_DIR fails fast.
  getDb();
  // Likewise the auth settings: a short AUTH_SECRET or a bad TRUST_PROXY refuses to start; without AUTH_SECRET,
  // the secret is generated or read now.
  await getAuthConfig();
  trustedProxies();
  getHub();
  // With LIVE_REDIS_URL: join the shared history before serving (waits at most 5 s; after that the
  // backend keeps retrying and serves this instance's clients locally).
  await hubReady();
  const app = next({ dev, dir: process.cwd(), hostname, port });
  const handle = app.getRequestHandler();
  await app.prepare();
  const live = transportMode === 'fast' ? createAppLiveTransport() : null;
  // Body limits are per procedure, in the handler (server/bodyLimit.ts).
  const trpc =
    trpcMode === 'direct'
      ? nodeHandlerFromFetch((request, req) => handleTrpcRequestFrom(request, req.socket.remoteAddress), { maxBodySize: null })
      : null;
  const trpcPrefix = `${TRPC_ENDPOINT}/`;

  const server = createServer((req, res) => {
    if (live?.handle(req, res)) return;
    if (isHealthCheck(req.method, req.url)) return serveHealth(res);
    if (trpc && req.url?.startsWith(trpcPrefix)) return trpc(req, res);
    if (hasMalformedPath(req.url)) return void res.writeHead(400, { 'content-type': 'text/plain' }).end('Malformed URL encoding in the path');
    handle(req, res).catch((error: unknown) => {
      console.error('[server] request failed:', error);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  applyHttpTimeouts(server);
  // METRICS_PORT: Prometheus on a second, localhost-only listener (the public port needs METRICS_TOKEN).
  startMetricsListener();
  server.listen(port, hostname, LISTEN_BACKLOG, () => {
    console.log(
      `[server] ready on http://localhost:${port} (${dev ? 'development' : 'production'}, live transport: ${transportMode}, tRPC HTTP: ${trpcMode})`,
    );
  });

  // SIGTERM/SIGINT: drain (health 503, reconnect hints with jitter, streams closed; requests still
  // answered with Connection: close for the grace, then the listener closes and in-flight requests
  // finish), then exit 0. A second signal while draining changes nothing.
  const shutdown = createGracefulShutdown({
    server,
    hub: getHub(),
    transport: live,
    ...drain,
  });
  const stop = (signal: string) => {
    if (shutdown.draining) {
      console.log(`[server] ${signal}: already draining`);
      return;
    }
    void shutdown.shutdown(signal).then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * The accept queue asked of the kernel (which caps it at `net.core.somaxconn`, 4,096 on current Linux). Node's
 * default, 511, overflows when thousands of streams reconnect at once after a network blip: the dropped connects
 * are retried by the client's TCP only after its SYN backoff (1, 3, 7, 15, 31 s). Capacity soak, 10,000 streams
 * reset at once on one instance: resume p99 32 s with 511, 18 s with 4,096 (the rest is server CPU).
 */
const LISTEN_BACKLOG = 4_096;

const HEALTH_PATH = '/api/health';

/** `GET`/`HEAD /api/health` (any query). */
function isHealthCheck(method: string | undefined, url: string | undefined): boolean {
  if ((method !== 'GET' && method !== 'HEAD') || !url?.startsWith(HEALTH_PATH)) return false;
  return url.length === HEALTH_PATH.length || url[HEALTH_PATH.length] === '?';
}

/**
 * Answers a health check with the Next route's own report (`server/health.ts`,
 * one code path), but straight from this server and synchronously: through
 * Next's route runtime a check costs a few ms and several event-loop turns,
 * which a load balancer's probe waits out behind every turn of a large
 * fan-out; through a fetch Response and its stream, ~0.4-0.6 ms of CPU each
 * (server profile of the transport bench's bursts, which probe 300+ times
 * per run).
 */
function serveHealth(res: ServerResponse): void {
  const { status, body } = healthReport();
  res.writeHead(status, HEALTH_HEADERS);
  res.end(JSON.stringify(body)); // node:http sends no body to a HEAD
}

main().catch((error: unknown) => {
  console.error('[server] failed to start:', error);
  process.exit(1);
});
