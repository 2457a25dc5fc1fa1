import { getHub } from '../../../server/appHub';

export const dynamic = 'force-dynamic';

/**
 * 200 while serving, 503 while draining. `backend` reports the live
 * backend; an unreachable Redis makes the status `degraded` but keeps 200:
 * the instance still serves its own clients, and a load balancer must not
 * take every instance out because Redis blipped.
 */
export function GET() {
  const hub = getHub();
  const draining = hub.draining;
  const backend = { name: hub.backend.name, ok: true, ...hub.backend.health?.() };
  return Response.json(
    { status: draining ? 'draining' : backend.ok ? 'ok' : 'degraded', connections: hub.connectionCount, backend },
    { status: draining ? 503 : 200, headers: { 'cache-control': 'no-store' } },
  );
}
