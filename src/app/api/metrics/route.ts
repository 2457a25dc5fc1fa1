import { getMetricsRegistry, metricsAccessAllowed } from '../../../server/metrics';

export const dynamic = 'force-dynamic';

/** Prometheus text exposition of the live layer and the process (`METRICS_TOKEN` restricts access). */
export async function GET(req: Request) {
  if (!metricsAccessAllowed(req.headers.get('authorization'))) {
    return new Response('Unauthorized: send Authorization: Bearer <METRICS_TOKEN>\n', {
      status: 401,
      headers: { 'www-authenticate': 'Bearer', 'cache-control': 'no-store' },
    });
  }
  const registry = getMetricsRegistry();
  return new Response(await registry.metrics(), {
    headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' },
  });
}
