import { demoUsers, DEMO_PASSWORD } from '../../server/db/seed';
import { TRPCReactProvider } from '../../trpc/react';
import { SignInForm } from './SignInForm';

export const metadata = { title: 'Sign in · trpc-live' };

export default function SignInPage() {
  return (
    <TRPCReactProvider openStream={false}>
      <main className="signin">
        <div className="signin-brand">
          <span className="logo" aria-hidden>
            ◆
          </span>{' '}
          trpc-live
          <p className="muted small">A commerce dashboard that never polls: every change is pushed.</p>
        </div>
        <SignInForm users={demoUsers.map(({ email, name, tenantId, role }) => ({ email, name, tenantId, role }))} password={DEMO_PASSWORD} />
      </main>
    </TRPCReactProvider>
  );
}
