import { z } from 'zod';
import { DEFAULT_MAX_WATCHES, watchKey, WatchKeyTooLongError } from '../shared/watches.ts';

/** Longest watch key (`watchKey(path, input)`) a watch call may name, in characters. */
export const MAX_WATCH_KEY_LENGTH = 2048;
/** Most watches one watch call may add, and most it may remove. */
export const MAX_WATCH_CHANGES = DEFAULT_MAX_WATCHES;
/** Longest connection id or holder (tab id) a watch call may name. */
const MAX_ID_LENGTH = 64;
/** Longest procedure path a watch may name. */
const MAX_PATH_LENGTH = 200;

const watchSpec = z
  .object({
    path: z.string().min(1).max(MAX_PATH_LENGTH),
    input: z.unknown().optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const tooLong = `A watch (path and input) is at most ${MAX_WATCH_KEY_LENGTH} characters`;
    let key: string;
    try {
      // Stops at the bound: an input's walk costs at most that many values, whatever graph it is.
      key = watchKey(spec.path, spec.input, MAX_WATCH_KEY_LENGTH);
    } catch (error) {
      // Else cyclic, too deeply nested or not JSON at all: no key can name it.
      ctx.addIssue({ code: 'custom', message: error instanceof WatchKeyTooLongError ? tooLong : 'A watch input must be plain JSON data' });
      return;
    }
    // The walk's budget counts values and names, not the punctuation between them.
    if (key.length > MAX_WATCH_KEY_LENGTH) ctx.addIssue({ code: 'custom', message: tooLong });
  });

/**
 * Input of the app's watch mutation (`live.watch`): a `WatchRequest`,
 * bounded so a call costs little whatever it holds: ids of at most 64
 * characters, at most {@link MAX_WATCH_CHANGES} watches added and as many
 * removed, each watch key at most {@link MAX_WATCH_KEY_LENGTH} characters.
 * Anything else is a BAD_REQUEST naming the problem. Each input is parsed
 * again by the watched procedure's own parsers when the watch is authorized.
 */
export const liveWatchInput = z
  .object({
    connectionId: z.string().min(1).max(MAX_ID_LENGTH),
    holder: z.string().min(1).max(MAX_ID_LENGTH).optional(),
    add: z.array(watchSpec).max(MAX_WATCH_CHANGES, `At most ${MAX_WATCH_CHANGES} watches per call`).optional(),
    remove: z
      .array(z.string().min(1).max(MAX_WATCH_KEY_LENGTH))
      .max(MAX_WATCH_CHANGES, `At most ${MAX_WATCH_CHANGES} watches per call`)
      .optional(),
    deltas: z.boolean().optional(),
  })
  .strict();

/**
 * Marks the watch procedure's input, so `trpc-live check` knows a mutation
 * taking it for the live binding's own (it changes watches, not data) rather
 * than one that forgot to invalidate. A registered symbol: found from another
 * copy of the package too.
 */
export const WATCH_INPUT_MARK = Symbol.for('trpc-live.watchInput');
Object.defineProperty(liveWatchInput, WATCH_INPUT_MARK, { value: true, enumerable: false });

/** The parsed input of a watch call (see {@link liveWatchInput}). */
export type LiveWatchInput = z.infer<typeof liveWatchInput>;
