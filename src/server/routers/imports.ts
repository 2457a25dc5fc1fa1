import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { authedProcedure, router } from '../trpc/init';
import { getImport, listImports, type ImportRecord } from '../data/imports';
import { getImportWorker, ImportQueueFullError } from '../imports/importWorker';
import { domain } from '../trpc/domainErrors';

/** Largest CSV accepted, in characters (10,000 rows of the sample are ~600 KB). */
export const MAX_IMPORT_CHARS = 5_000_000;

/**
 * Largest request body of `imports.start`, in bytes, so that every input the
 * schema allows fits: UTF-8 takes at most 3 bytes per UTF-16 code unit, and
 * JSON writes quotes, backslashes and the whitespace escapes in 2; the other
 * control characters (6 bytes as `\u00XX`) and lone surrogates are refused by
 * the schema (a CSV has none). 64 KiB more cover the file name and the
 * envelope. Every other call keeps the default body limit (`bodyLimit.ts`).
 */
export const MAX_IMPORT_BODY_BYTES = 3 * MAX_IMPORT_CHARS + 64 * 1024;

/**
 * C0 control characters but tab, LF and CR, and lone surrogates (`\p{Cs}` in
 * `u` mode matches no half of a valid pair): no CSV holds them, and JSON
 * escapes them in 6 bytes. One native scan: ~2 ms for 5 MB of ASCII, ~25 ms
 * for 5 MB of mostly non-ASCII text on a loaded 2-core machine.
 */
const NOT_CSV = /[\0-\x08\x0B\x0C\x0E-\x1F\p{Cs}]/u;

/**
 * Control characters (C0, DEL, C1) and the bidirectional controls (U+061C,
 * U+200E-F, U+202A-E, U+2066-9), and lone surrogates: no file name needs
 * them, and a stored name is shown in the import list and notifications,
 * where U+202E would show `invoice\u202Efdp.csv` as `invoicevsc.pdf`.
 */
const NOT_FILE_NAME = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\p{Cs}]/u;

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
          fileName: z
            .string()
            .trim()
            .min(1)
            .max(200)
            .refine((name) => !NOT_FILE_NAME.test(name), 'The file name contains control or bidirectional-override characters; rename the file'),
          // The length bound is checked in the resolver, to answer 413 (PAYLOAD_TOO_LARGE), not 400.
          csv: z
            .string()
            .min(1, 'The file is empty')
            .refine((csv) => !NOT_CSV.test(csv), 'The file contains control characters or broken Unicode; a CSV file has none'),
        })
        .strict(),
    )
    .mutation(({ ctx, input }) => {
      if (input.csv.length > MAX_IMPORT_CHARS) {
        throw new TRPCError({
          code: 'PAYLOAD_TOO_LARGE',
          message: `The file has ${input.csv.length.toLocaleString('en')} characters; imports take at most ${MAX_IMPORT_CHARS.toLocaleString('en')} (about 5 MB)`,
        });
      }
      try {
        return domain(() =>
          getImportWorker().start({
            tenantId: ctx.session.tenantId,
            userId: ctx.session.userId,
            fileName: input.fileName,
            csv: input.csv,
          }),
        );
      } catch (error) {
        if (error instanceof ImportQueueFullError) throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: error.message });
        throw error;
      }
    }),
});
