import { initTRPC, TRPCError } from '@trpc/server';
import superjson from 'superjson';
import { ZodError } from 'zod';
import { createLive, type Live, type LiveMeta } from 'trpc-live/trpc';
import { sessionStreams } from '../auth/sessionStreams';
import type { Context } from '../context';
import { appEnv } from '../env';
import { getHub } from '../appHub';
import { providePushStats } from '../prometheus';
import { takeTurn, withoutTurns } from '../requestLimits';
import { resources, topics, type Resources, type Topics } from '../../trpc/resources';

/**
 * SSE settings shared by the stock route and the fast transport. Pings keep
 * proxies from cutting idle streams and reveal half-open sockets
 * (LIVE_PING_INTERVAL_MS, default 15 s); a client that hears nothing for
 * LIVE_CLIENT_TIMEOUT_MS (default 40 s) reconnects. The ping must be shorter.
 */
export const sseOptions = (() => {
  // server/env.ts checks that the ping is the shorter one.
  const { LIVE_PING_INTERVAL_MS: intervalMs, LIVE_CLIENT_TIMEOUT_MS: reconnectAfterInactivityMs } = appEnv();
  return { ping: { enabled: true, intervalMs }, client: { reconnectAfterInactivityMs } } as const;
})();

const t = initTRPC
  .context<Context>()
  .meta<LiveMeta<Resources, Context>>()
  .create({
    transformer: superjson,
    sse: sseOptions,
    errorFormatter({ shape, error }) {
      return {
        ...shape,
        data: {
          ...shape.data,
          // Field errors of invalid input, without internals.
          zodError: error.cause instanceof ZodError ? error.cause.issues.map((i) => ({ path: i.path, message: i.message })) : null,
          stack: undefined,
        },
      };
    },
  });

/** The live layer bound to the app: tenant scope, user/role groups, the fence log. */
export const live: Live<Context, Resources, Topics> = createLive<Context, Resources, Topics>({
  hub: getHub,
  scope: (ctx) => ctx.session?.tenantId,
  // `session`: the sign-in session, so a sign-out ends its streams (src/server/auth/sessionStreams.ts).
  groups: (ctx): Record<string, string> => {
    const session = ctx.session;
    if (!session) return {};
    return { user: session.userId, role: session.role, ...(session.sessionId ? { session: session.sessionId } : {}) };
  },
  publishLog: (ctx) => ctx.publishLog,
  // A token may narrow what its holder receives (claim `topics`); the stream gets the intersection.
  allowedTopics: (ctx) => ctx.session?.topics,
  // The stream ends with UNAUTHORIZED when the session (or stream credential) expires.
  expiresAt: (ctx) => (ctx.session ? ctx.session.exp * 1000 : undefined),
  resources,
  // Declared event topics and jobs: what `live.publisher` publishers outside procedures may publish.
  topics,
  // Pushed results are the server's own work after a change, not the watch call's request: no fair turns.
  pushContext: withoutTurns,
  // `invalidates` functions see the parsed input: the router is bound where it is built
  // (routers/_app.ts, `live.bindRouter`); a mutation run before that reports a problem.
  invalidatesInput: 'parsed',
});
// GET /api/metrics reads its pushed-results counters (trpc_live_push_*).
providePushStats(() => live.pushStats());

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure;

/** Why a ticket or stream credential is refused by any procedure but the live stream. */
const STREAM_ONLY = 'Stream tickets and credentials are valid for the live stream only';

/**
 * Requires a signed-in user (session cookie or bearer token); narrows
 * `ctx.session`. Tickets and stream credentials never reach here as a
 * session (see {@link streamProcedure}), so every procedure built on this
 * one, subscriptions included, refuses them.
 */
export const authedProcedure = t.procedure
  // Calls that came over HTTP start one per event-loop turn, round-robin between users (server/requestLimits.ts).
  .use(async ({ ctx, type, next }) => {
    await takeTurn(ctx, type);
    return next();
  })
  .use(({ ctx, next }) => {
    if (!ctx.session) {
      const streamOnly = ctx.authMethod === 'ticket' || ctx.authMethod === 'credential';
      throw new TRPCError({ code: 'UNAUTHORIZED', message: streamOnly ? STREAM_ONLY : 'Sign in first' });
    }
    return next({ ctx: { ...ctx, session: ctx.session } });
  })
  .use(live.invalidationMiddleware);

/**
 * The live stream's procedure, and only its: besides a session it accepts a
 * one-time ticket or a stream credential (non-browser clients), redeemed
 * here rather than at context creation. Security: use it for `live.stream`
 * alone; a test walks every procedure of the router with a ticket and a
 * credential and expects refusal everywhere else.
 */
export const streamProcedure = t.procedure.use(async ({ ctx, next }) => {
  const session = ctx.session ?? (await ctx.streamSession());
  if (!session) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first' });
  // A sign-out ends the session's open streams: make sure the sweep runs while streams are open.
  if (session.sessionId) sessionStreams(ctx.db).watch();
  return next({ ctx: { ...ctx, session } });
});
