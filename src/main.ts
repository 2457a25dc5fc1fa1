/**
 * Production entry: one Node HTTP server for the Next.js app and the live
 * transport. `node dist/main.js` (built by `npm run build`); `--dev` runs
 * Next in development mode.
 */
import { createServer } from 'node:http';
import next from 'next';
import { getDb } from './server/db/connection';
import { getHub } from './server/hub';

const dev = process.argv.includes('--dev');
const port = Number(process.env.PORT ?? 3000);
const hostname = process.env.HOST ?? '0.0.0.0';

async function main() {
  // Open (migrate, seed) the database before serving, so a bad DATA_DIR fails fast.
  getDb();
  getHub();
  const app = next({ dev, dir: process.cwd(), hostname, port });
  const handle = app.getRequestHandler();
  await app.prepare();

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('[server] request failed:', error);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.listen(port, hostname, () => {
    console.log(`[server] ready on http://localhost:${port} (${dev ? 'development' : 'production'})`);
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[server] ${signal}: closing`);
    getHub().drain({ jitterMs: 2000 });
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
