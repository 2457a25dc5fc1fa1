import { HEALTH_HEADERS, healthReport } from '../../../server/health';

export const dynamic = 'force-dynamic';

/** The instance's health (`src/server/health.ts`); the Node entry answers the same without Next. */
export function GET() {
  const { status, body } = healthReport();
  return Response.json(body, { status, headers: HEALTH_HEADERS });
}
