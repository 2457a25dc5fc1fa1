import { TRPCError, type AnyTRPCRouter } from '@trpc/server';
import { MAX_BATCH_SIZE } from '../trpc/batchLimit';
import { trpcErrorResponse } from './trpcErrorResponse';

/**
 * Refuses a batched request of more than {@link MAX_BATCH_SIZE} calls with
 * 400 BAD_REQUEST whose message names the limit, before any call runs or the
 * body is read. tRPC's own `maxBatchSize` (set too, as a second line) says
 * only "Batch call exceeds maximum size", which leaves a client author
 * guessing. Returns `null` for anything else.
 */
export function oversizedBatchResponse(req: Request, router: AnyTRPCRouter, endpoint: string): Response | null {
  const url = new URL(req.url);
  const batch = url.searchParams.get('batch');
  if (batch !== '1' && batch !== 'true') return null;
  const paths = url.pathname.slice(endpoint.length + 1);
  let calls = 1;
  for (let i = paths.indexOf(','); i !== -1 && calls <= MAX_BATCH_SIZE; i = paths.indexOf(',', i + 1)) calls++;
  if (calls <= MAX_BATCH_SIZE) return null;
  return trpcErrorResponse(
    router,
    new TRPCError({
      code: 'BAD_REQUEST',
      message: `A batch may hold at most ${MAX_BATCH_SIZE} calls; this one has more. Split it (httpBatchLink's maxItems).`,
    }),
  );
}
