import type { Server } from 'node:http';
import { readEnv, type EnvSource } from './env';

/**
 * Default of `HTTP_KEEP_ALIVE_TIMEOUT_MS`: longer than the 60 s idle timeout
 * of common load balancers and proxies (AWS ALB, nginx upstream pools).
 */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * How long the production server keeps an idle keep-alive connection:
 * `HTTP_KEEP_ALIVE_TIMEOUT_MS` (default 65 s). Node's own default is 5 s:
 * a live page, quiet between changes, would open a new TCP connection for
 * most refetches, and a proxy that keeps upstream connections longer than
 * the server races the server's close and reports the reset as a 502.
 * The headers timeout is raised above it, as Node requires, so a request
 * arriving on a connection about to expire is not cut.
 */
export function applyHttpTimeouts(
  server: Pick<Server, 'keepAliveTimeout' | 'headersTimeout' | 'requestTimeout'>,
  env?: EnvSource,
): void {
  const keepAlive = readEnv(env).HTTP_KEEP_ALIVE_TIMEOUT_MS ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS;
  server.keepAliveTimeout = keepAlive;
  server.headersTimeout = Math.max(server.headersTimeout, keepAlive + 1_000);
  if (server.requestTimeout > 0 && server.requestTimeout < server.headersTimeout) server.requestTimeout = server.headersTimeout;
}
