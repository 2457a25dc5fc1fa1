import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { authedProcedure, router } from '../../trpc/init';
import { getImport, listImports, type ImportRecord } from '../data/imports';
import { getImportWorker } from '../imports/importWorker';
import { domain } from './errors';

/** Largest CSV accepted, in characters (10,000 rows of the sample are ~600 KB). */
export const MAX_IMPORT_CHARS = 5_000_000;

export const importsRouter = router({
  list: authedProcedure.query(({ ctx }) => listImports(ctx.db, ctx.session.tenantId)),

  byId: authedProcedure.input(z.object({ id: z.string().min(1).max(64) }).strict()).query(({ ctx, input }) => {
    const record = getImport(ctx.db, ctx.session.tenantId, input.id);
    if (!record) throw new TRPCError({ code: 'NOT_FOUND', message: `Import ${input.id} does not exist` });
    return record;
  }),

  /**
   * Queues a CSV of orders (`customer,sku,quantity[,status][,created_at]`).
   * Answers at once; rows are processed in the background with progress on
   * the coalesced lane and completion on the instant lane.
   */
  start: authedProcedure
    .meta({
      invalidates: {
        resources: ['imports'],
        keys: ({ output }: { output: ImportRecord }) => [{ resource: 'imports', id: output.id, action: 'created' }],
      },
    })
    .input(
      z
        .object({
          fileName: z.string().trim().min(1).max(200),
          csv: z.string().min(1, 'The file is empty').max(MAX_IMPORT_CHARS, 'The file is larger than 5 MB'),
        })
        .strict(),
    )
    .mutation(({ ctx, input }) =>
      domain(() =>
        getImportWorker().start({
          tenantId: ctx.session.tenantId,
          userId: ctx.session.userId,
          fileName: input.fileName,
          csv: input.csv,
        }),
      ),
    ),
});
