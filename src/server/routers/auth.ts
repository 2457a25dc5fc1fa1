import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { publicProcedure, router } from '../../trpc/init';
import { verifyPassword } from '../auth/password';
import { clearSessionCookie, sessionCookie, signSession } from '../auth/session';
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
  /** Signs in with email and password; sets the httpOnly session cookie. */
  signIn: publicProcedure
    .input(z.object({ email: z.string().trim().toLowerCase().email().max(200), password: z.string().min(1).max(200) }).strict())
    .mutation(async ({ ctx, input }) => {
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
      const token = await signSession({
        userId: user.id,
        tenantId: user.tenant_id,
        role: user.role,
        name: user.name,
        email: user.email,
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

  signOut: publicProcedure.mutation(({ ctx }) => {
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
