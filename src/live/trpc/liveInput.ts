import { z } from 'zod';
import { assertPattern, isLiveError, MAX_CURSOR_LENGTH, parseCursor } from '../core';

/** Most topic patterns one stream may ask for. */
export const MAX_STREAM_TOPICS = 32;

/**
 * Input of a live subscription procedure. `lastEventId` is added by
 * `httpSubscriptionLink` on reconnects; a malformed cursor or pattern is a
 * BAD_REQUEST with a message naming the problem.
 */
export const liveStreamInput = z
  .object({
    lastEventId: z
      .string()
      .max(MAX_CURSOR_LENGTH, 'lastEventId is not a cursor this server issued')
      .refine((v) => parseCursor(v) !== null, 'lastEventId must look like "epoch:seq"')
      .nullish(),
    topics: z
      .array(
        z.string().superRefine((pattern, ctx) => {
          try {
            assertPattern(pattern);
          } catch (error) {
            ctx.addIssue({ code: 'custom', message: isLiveError(error) ? error.message : 'Invalid topic pattern' });
          }
        }),
      )
      .max(MAX_STREAM_TOPICS, `At most ${MAX_STREAM_TOPICS} topic patterns`)
      .optional(),
  })
  .strict();

export type LiveStreamInput = z.infer<typeof liveStreamInput>;
