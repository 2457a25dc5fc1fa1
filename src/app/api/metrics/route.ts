import { getHub } from '../../../server/appHub';
import { metricsAccess, metricsResponse } from '../../../server/prometheus';

export const dynamic = 'force-dynamic';

const refusal = (status: number, message: string, headers: Record<string, string> = {}) =>
  new Response(`${message}\n`, { status, headers: { 'cache-control': 'no-store', 'content-type': 'text/plain', ...headers } });

/**
 * Prometheus text exposition of the live layer and the process. Closed
 * unless the operator sets `METRICS_TOKEN` (then `Authorization: Bearer
 * <token>`); `METRICS_PORT` serves it on localhost without a token instead.
 */
export async function GET(req: Request) {
  switch (metricsAccess(req.headers.get('authorization'))) {
    case 'closed':
      return refusal(403, 'Metrics are not served on this port: set METRICS_TOKEN and send Authorization: Bearer <token>, or scrape METRICS_PORT on localhost');
    case 'unauthorized':
      return refusal(401, 'Unauthorized: send Authorization: Bearer <METRICS_TOKEN>', { 'www-authenticate': 'Bearer' });
    case 'allowed':
      return metricsResponse(getHub());
  }
}
