/**
 * Production entry: one Node HTTP server for the Next.js app and the live
 * transport. `node dist/main.js` (built by `npm run build`); `--dev` runs
 * Next in development mode.
 *
 * GET /api/trpc/live.stream is served by the fast live transport
 * (`src/live/node`): the same tRPC procedure, context and middleware as the
 * stock route, attached straight to the hub. Everything else, including any
 * live request the transport declines, goes to Next. `LIVE_TRANSPORT=stock`
 * turns the fast transport off, so the stock tRPC route serves the stream
 * (to compare both in one build).
 *
 * Next's route bundles are separate module instances from this file: the
 * hub and the database are shared through `globalThis` (see
 * `server/hub.ts`, `server/db/connection.ts`).
 */
import { createServer } from 'node:http';
import next from 'next';
import { getDb } from './server/db/connection';
import { getHub, hubReady } from './server/hub';
import { createAppLiveTransport } from './server/liveTransport';

const dev = process.argv.includes('--dev');
const port = Number(process.env.PORT ?? 3000);
const hostname = process.env.HOST ?? '0.0.0.0';
const transportMode = process.env.LIVE_TRANSPORT === 'stock' ? 'stock' : 'fast';

async function main() {
  // Open (migrate, seed) the database before serving, so a bad DATA_DIR fails fast.
  getDb();
  getHub();
  // With LIVE_REDIS_URL: join the shared history before serving (waits at most 5 s; after that the
  // backend keeps retrying and serves this instance's clients locally).
  await hubReady();
  const app = next({ dev, dir: process.cwd(), hostname, port });
  const handle = app.getRequestHandler();
  await app.prepare();
  const live = transportMode === 'fast' ? createAppLiveTransport() : null;

  const server = createServer((req, res) => {
    if (live?.handle(req, res)) return;
    handle(req, res).catch((error: unknown) => {
      console.error('[server] request failed:', error);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.listen(port, hostname, () => {
    console.log(
      `[server] ready on http://localhost:${port} (${dev ? 'development' : 'production'}, live transport: ${transportMode})`,
    );
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[server] ${signal}: closing`);
    getHub().drain({ jitterMs: 2000 });
    live?.close();
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error('[server] failed to start:', error);
  process.exit(1);
});
