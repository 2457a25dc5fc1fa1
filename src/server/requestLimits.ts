import { TRPCError } from '@trpc/server';
import type { TRPCRequestInfo } from '@trpc/server/http';
import type { Session } from './auth/session';
import { envValue } from './env';
import { createFairTurns, type FairTurns } from './fairTurns';

/**
 * Default of `TRPC_MAX_REQUESTS_PER_SESSION`: tRPC HTTP requests one user
 * may have in flight. A browser opens at most 6 HTTP/1.1 connections per
 * origin, one of them the live stream, so the app never meets the bound;
 * a script that opens more waits, instead of queueing unbounded work.
 */
export const DEFAULT_MAX_REQUESTS_PER_SESSION = 8;

/** What a refused request is told to wait, in seconds: requests last milliseconds. */
const RETRY_AFTER_SECONDS = 1;

/** Where a request's context carries its user's turn key (copied by `{ ...ctx }`; one symbol for every bundle). */
const TURN_KEY = Symbol.for('trpc-live.turnKey');

/** One user: the bound and the turns are per user of a tenant, whatever session or tab sends. */
const userKey = (session: Pick<Session, 'tenantId' | 'userId'>) => `${session.tenantId}\u0000${session.userId}`;

/** Per-user bounds on the tRPC HTTP handler. */
export interface RequestLimits {
  /** Starts one HTTP request: {@link RequestAdmission.admit} it once its context exists. */
  begin(): RequestAdmission;
  /** Requests of a user in flight (tests). */
  inFlight(session: Pick<Session, 'tenantId' | 'userId'>): number;
  /** The turns its calls take (see {@link takeTurn}). */
  readonly turns: FairTurns;
}

/** One request's admission: counted from `admit` until its response is complete. */
export interface RequestAdmission {
  /**
   * Counts the request against its user's bound and marks the context so its
   * calls take turns. Streams (subscriptions) last for hours and are not
   * counted; neither are requests without a session (they fail fast).
   * @throws TRPCError TOO_MANY_REQUESTS (429, with `Retry-After`) past the bound.
   */
  admit<TCtx extends { session: Session | null }>(ctx: TCtx, info: TRPCRequestInfo, resHeaders: Headers): TCtx;
  /** The response, released from the count once its body has been sent (a streamed batch) or at once. */
  finish(response: Response): Response;
  /** Releases the count of a request that ended without a response. */
  abandon(): void;
}

/** Options of {@link createRequestLimits}. */
export interface RequestLimitsOptions {
  /** Requests per user in flight. @default TRPC_MAX_REQUESTS_PER_SESSION, else {@link DEFAULT_MAX_REQUESTS_PER_SESSION} */
  maxPerSession?: number;
  /** @default createFairTurns() */
  turns?: FairTurns;
}

/** Creates per-user request bounds. See {@link RequestLimitsOptions} for defaults. */
export function createRequestLimits(options: RequestLimitsOptions = {}): RequestLimits {
  const max =
    options.maxPerSession ?? envValue('TRPC_MAX_REQUESTS_PER_SESSION') ?? DEFAULT_MAX_REQUESTS_PER_SESSION;
  const turns = options.turns ?? createFairTurns();
  const counts = new Map<string, number>();
  const release = (key: string) => {
    const n = (counts.get(key) ?? 1) - 1;
    if (n > 0) counts.set(key, n);
    else counts.delete(key);
  };
  return {
    turns,
    inFlight: (session) => counts.get(userKey(session)) ?? 0,
    begin() {
      let held: string | null = null;
      const done = () => {
        if (held !== null) release(held);
        held = null;
      };
      return {
        admit(ctx, info, resHeaders) {
          if (!ctx.session || info.type === 'subscription' || held !== null) return ctx;
          const key = userKey(ctx.session);
          const n = counts.get(key) ?? 0;
          if (n >= max) {
            resHeaders.set('retry-after', String(RETRY_AFTER_SECONDS));
            throw new TRPCError({
              code: 'TOO_MANY_REQUESTS',
              message: `Too many requests at once: at most ${max} per user may be in flight (TRPC_MAX_REQUESTS_PER_SESSION); retry when one has been answered`,
            });
          }
          counts.set(key, n + 1);
          held = key;
          return Object.assign(ctx, { [TURN_KEY]: key });
        },
        finish(response) {
          // A streamed batch (httpBatchStreamLink) runs its calls while the body is sent.
          if (held === null || !response.body || response.headers.get('transfer-encoding') !== 'chunked') {
            done();
            return response;
          }
          const reader = response.body.getReader();
          const body = new ReadableStream<Uint8Array>({
            async pull(controller) {
              try {
                const chunk = await reader.read();
                if (chunk.done) {
                  done();
                  controller.close();
                } else controller.enqueue(chunk.value);
              } catch (error) {
                done();
                throw error;
              }
            },
            cancel(reason) {
              done();
              return reader.cancel(reason);
            },
          });
          return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
        },
        abandon: done,
      };
    },
  };
}

const LIMITS_KEY = Symbol.for('trpc-live.app.requestLimits');
type LimitsGlobal = { [LIMITS_KEY]?: RequestLimits };

/** The process-wide limits (on `globalThis`: the Node entry and Next's route bundle count together). */
export function getRequestLimits(): RequestLimits {
  const g = globalThis as LimitsGlobal;
  g[LIMITS_KEY] ??= createRequestLimits();
  return g[LIMITS_KEY];
}

/**
 * A copy of `ctx` whose calls take no turns ({@link takeTurn} resolves at
 * once): the context pushed results are computed with (`pushContext` in
 * trpc/init.ts). A computation the server runs after a change is no user's
 * request; through the watcher's turns each watched query of a change
 * started in its own event-loop turn, paced when that user had just had
 * one, and went out in its own socket write (per mutation with 10 watching
 * streams: 40 writes -> 14, strace of a local driver, 2026-12-07).
 */
export function withoutTurns<TCtx extends object>(ctx: TCtx): TCtx {
  const copy = { ...ctx };
  delete (copy as { [TURN_KEY]?: string })[TURN_KEY];
  return copy;
}

/**
 * Waits for the turn of a call that came through the HTTP handler (its
 * context was admitted); resolves at once for anything else (`createCaller`,
 * streams). Used by `authedProcedure` before any of its work.
 */
export function takeTurn(ctx: object, type: string): Promise<void> | undefined {
  const key = (ctx as { [TURN_KEY]?: string })[TURN_KEY];
  if (key === undefined || type === 'subscription') return undefined;
  return getRequestLimits().turns.take(key);
}
