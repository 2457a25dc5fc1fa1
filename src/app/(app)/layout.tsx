import Link from 'next/link';
import { redirect } from 'next/navigation';
import type { ReactNode } from 'react';
import { TRPCReactProvider } from '../../trpc/react';
import { currentSession } from '../../trpc/session';
import { SignOutButton } from './SignOutButton';

export const dynamic = 'force-dynamic';

/** Signed-in pages: one tRPC client and one live stream for the tab. */
export default async function AppLayout({ children }: { children: ReactNode }) {
  const session = await currentSession();
  if (!session) redirect('/sign-in');
  return (
    <TRPCReactProvider>
      <header className="top">
        <span className="brand">trpc-live</span>
        <nav>
          <Link href="/orders">Orders</Link>
        </nav>
        <span className="muted" data-testid="who">
          {session.name} · {session.tenantId}
        </span>
        <SignOutButton />
      </header>
      <main>{children}</main>
    </TRPCReactProvider>
  );
}
