import { createServer, type Server } from 'node:http';
import { writeFetchResponse } from 'trpc-live/node';
import { getHub } from './appHub';
import { readEnv, type EnvSource } from './env';
import { metricsResponse } from './prometheus';

/** Paths the metrics listener answers (`/metrics` is Prometheus' default). */
const METRICS_PATHS = new Set(['/metrics', '/api/metrics']);

/**
 * A second listener for Prometheus on `METRICS_PORT`, bound to
 * `METRICS_HOST` (default 127.0.0.1): `GET /metrics` (or `/api/metrics`)
 * without a token, everything else 404. For a scraper on the same host or
 * network namespace (a sidecar); the public port keeps the metrics closed
 * unless `METRICS_TOKEN` is set. `null` when `METRICS_PORT` is unset.
 * @throws when METRICS_PORT is not a port number.
 */
export function startMetricsListener(source?: EnvSource): Server | null {
  const { METRICS_PORT: port, METRICS_HOST: host } = readEnv(source);
  if (port === undefined) return null;
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (req.method !== 'GET' || !METRICS_PATHS.has(path)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: GET /metrics\n');
      return;
    }
    metricsResponse(getHub())
      .then((response) => writeFetchResponse(response, res))
      .catch((error: unknown) => {
        console.error('[metrics] scrape failed:', error);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  // Not a reason to keep the process alive during a drain.
  server.unref();
  server.listen(port, host, () => console.log(`[metrics] Prometheus metrics on http://${host}:${port}/metrics`));
  return server;
}
