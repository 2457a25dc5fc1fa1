import { redirect } from 'next/navigation';
import type { ReactNode } from 'react';
import { TRPCReactProvider } from '../../trpc/react';
import { currentSession } from '../../server/auth/currentSession';
import { LiveBadge } from './LiveBadge';
import { NavLinks } from './NavLinks';
import { SignOutButton } from './SignOutButton';
import { Toasts } from './Toasts';

export const dynamic = 'force-dynamic';

/** Signed-in pages: one tRPC client per tab, one live stream per browser (shared by the user's tabs). */
export default async function AppLayout({ children }: { children: ReactNode }) {
  const session = await currentSession();
  if (!session) redirect('/sign-in');
  return (
    <TRPCReactProvider shareKey={`${session.tenantId}:${session.userId}`}>
      <header className="top">
        <span className="brand">
          <span className="logo" aria-hidden>
            ◆
          </span>{' '}
          trpc-live
        </span>
        <NavLinks role={session.role} />
        <LiveBadge />
        <span className="who" data-testid="who">
          <strong>{session.name}</strong>
          <span className="muted"> · {session.tenantId}</span>
        </span>
        <SignOutButton />
      </header>
      <main>{children}</main>
      <Toasts />
    </TRPCReactProvider>
  );
}
