import { TRPCReactProvider } from '../../trpc/react';
import { SignInForm } from './SignInForm';
import { demoUsers, DEMO_PASSWORD } from '../../server/db/seed';

export default function SignInPage() {
  return (
    <TRPCReactProvider live={false}>
      <main className="signin">
        <div className="card">
          <h1>Sign in to trpc-live</h1>
          <SignInForm />
        </div>
        <div className="card users">
          <h2>Demo users (password {DEMO_PASSWORD})</h2>
          <table>
            <tbody>
              {demoUsers.map((u) => (
                <tr key={u.email}>
                  <td>{u.email}</td>
                  <td className="muted">
                    {u.tenantId} · {u.role}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </main>
    </TRPCReactProvider>
  );
}
