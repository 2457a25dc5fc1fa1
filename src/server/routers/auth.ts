import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { publicProcedure, router } from '../trpc/init';
import { verifyPassword } from '../auth/password';
import { sessionRevocations } from '../auth/revocations';
import { clearSessionCookie, SESSION_TTL_SECONDS, sessionCookie, signSession } from '../auth/session';
import { signInLimiter } from '../auth/signInLimiter';
import { issueTicket } from '../auth/tickets';
import { statements } from '../db/statements';

interface UserRow {
  id: string;
  tenant_id: string;
  email: string;
  name: string;
  role: 'admin' | 'staff';
  password_hash: string;
  tenant_name: string;
}

export const authRouter = router({
  /**
   * Signs in with email and password; sets the httpOnly session cookie.
   * Failed attempts are limited per email and per client address
   * (`signInLimiter.ts`): past a limit, TOO_MANY_REQUESTS (429) with
   * `Retry-After`, before any password is checked.
   */
  signIn: publicProcedure
    .input(z.object({ email: z.string().trim().toLowerCase().email().max(200), password: z.string().min(1).max(200) }).strict())
    .mutation(async ({ ctx, input }) => {
      const attempt = signInLimiter().attempt(input.email, ctx.clientAddress);
      if (!attempt.ok) {
        ctx.resHeaders.set('retry-after', String(attempt.retryAfterSeconds));
        throw new TRPCError({
          code: 'TOO_MANY_REQUESTS',
          message: `Too many failed sign-in attempts: try again in ${attempt.retryAfterSeconds} s`,
        });
      }
      const user = statements(ctx.db)
        .prepare(
          `SELECT u.id, u.tenant_id, u.email, u.name, u.role, u.password_hash, t.name AS tenant_name
           FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.email = ?`,
        )
        .get(input.email) as UserRow | undefined;
      // Checked even for an unknown email, so the answer's timing does not tell which emails exist.
      const ok = await verifyPassword(input.password, user?.password_hash ?? null);
      if (!user || !ok) {
        throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Wrong email or password' });
      }
      attempt.succeeded();
      // A server-side session, so sign-out can end it (the token carries its id as `sid`).
      const sessionId = sessionRevocations(ctx.db).begin(
        { userId: user.id, tenantId: user.tenant_id },
        Date.now() + SESSION_TTL_SECONDS * 1000,
      );
      const token = await signSession({
        userId: user.id,
        tenantId: user.tenant_id,
        role: user.role,
        name: user.name,
        email: user.email,
        sessionId,
      });
      ctx.resHeaders.append('set-cookie', sessionCookie(token));
      return { name: user.name, tenant: user.tenant_name };
    }),

  /**
   * A single-use ticket (30 s) for a non-browser client's live stream, which
   * cannot send headers: pass it as `connectionParams: { ticket }`. Needs a
   * cookie or bearer session; a ticket or stream credential cannot mint another.
   */
  streamTicket: publicProcedure.mutation(({ ctx }) => {
    if (!ctx.session || (ctx.authMethod !== 'cookie' && ctx.authMethod !== 'bearer')) {
      throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first' });
    }
    return issueTicket(ctx.db, ctx.session);
  }),

  /**
   * Ends the caller's session on the server: the token (cookie or bearer),
   * its tickets and stream credentials are refused from now on, and its open
   * streams end with UNAUTHORIZED. Clears the cookie. Without a session: just
   * clears the cookie.
   */
  signOut: publicProcedure.mutation(({ ctx }) => {
    if (ctx.session?.sessionId) sessionRevocations(ctx.db).revoke(ctx.session.sessionId);
    ctx.resHeaders.append('set-cookie', clearSessionCookie());
    return { ok: true };
  }),

  /** The signed-in user, or `null`. */
  me: publicProcedure.query(({ ctx }) => {
    if (!ctx.session) return null;
    const tenant = statements(ctx.db).prepare('SELECT name FROM tenants WHERE id = ?').get(ctx.session.tenantId) as
      | { name: string }
      | undefined;
    return { ...ctx.session, tenantName: tenant?.name ?? ctx.session.tenantId };
  }),
});
