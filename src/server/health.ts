import { getHub } from './appHub';

/** What `GET /api/health` answers: the HTTP status and the JSON body. */
export interface HealthReport {
  readonly status: 200 | 503;
  readonly body: {
    readonly status: 'ok' | 'degraded' | 'draining';
    readonly connections: number;
    readonly backend: { readonly name: string; readonly ok: boolean };
  };
}

/** Headers of every health answer: a probe must never read a cached one. */
export const HEALTH_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' } as const;

/**
 * 200 while serving, 503 while draining. `backend` reports the live
 * backend; an unreachable Redis makes the status `degraded` but keeps 200:
 * the instance still serves its own clients, and a load balancer must not
 * take every instance out because Redis blipped. One function for the Next
 * route and the Node entry's direct answer (`src/main.ts`).
 */
export function healthReport(): HealthReport {
  const hub = getHub();
  const draining = hub.draining;
  const backend = { name: hub.backend.name, ok: true, ...hub.backend.health?.() };
  return {
    status: draining ? 503 : 200,
    body: { status: draining ? 'draining' : backend.ok ? 'ok' : 'degraded', connections: hub.connectionCount, backend },
  };
}
