import { z } from 'zod';
import { assertPattern, isLiveError, MAX_CURSOR_LENGTH } from '../core/index.ts';

/** Most topic patterns one stream may ask for. */
export const MAX_STREAM_TOPICS = 32;

/**
 * Input of a live subscription procedure. `lastEventId` is added by
 * `httpSubscriptionLink` on reconnects (the last SSE id it saw). One the hub
 * cannot read (malformed, unknown, another epoch) gets one `reset` on a
 * stream that stays open, as a reconnect after a restart does; longer than
 * any id the hub writes, or a malformed pattern, is a BAD_REQUEST naming the
 * problem. No input (`undefined`) is `{}`: from the head, every topic the
 * stream's scope allows.
 */
export const liveStreamInput = z
  .object({
    lastEventId: z.string().max(MAX_CURSOR_LENGTH, `lastEventId is longer than any cursor (${MAX_CURSOR_LENGTH} characters)`).nullish(),
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
  .strict()
  // No input at all is `{}`: a client outside a browser may open the stream with a bare GET (no `input`
  // parameter); before, that was a BAD_REQUEST "expected object, received undefined".
  .default({});

/** The parsed input of a live subscription: `{ lastEventId?, topics? }` (see {@link liveStreamInput}). */
export type LiveStreamInput = z.infer<typeof liveStreamInput>;
