import { getMetricsRegistry } from '../../../server/metrics';

export const dynamic = 'force-dynamic';

/** Prometheus text exposition of the live layer and the process. */
export async function GET() {
  const registry = getMetricsRegistry();
  return new Response(await registry.metrics(), {
    headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' },
  });
}
