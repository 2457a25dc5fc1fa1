import { getHub } from '../../../server/hub';

export const dynamic = 'force-dynamic';

/** 200 while serving, 503 while draining. */
export function GET() {
  const hub = getHub();
  const draining = hub.draining;
  return Response.json(
    { status: draining ? 'draining' : 'ok', connections: hub.connectionCount },
    { status: draining ? 503 : 200, headers: { 'cache-control': 'no-store' } },
  );
}
