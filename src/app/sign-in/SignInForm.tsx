'use client';

import { useMutation } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { useTRPC } from '../../trpc/react';

interface DemoUser {
  email: string;
  name: string;
  tenantId: string;
  role: string;
}

/** Email and password form; the demo users below it fill it in with one click. */
export function SignInForm({ users, password: demoPassword }: { users: readonly DemoUser[]; password: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const [email, setEmail] = useState('alice@acme.test');
  const [password, setPassword] = useState(demoPassword);
  const signIn = useMutation(
    trpc.auth.signIn.mutationOptions({
      onSuccess: () => {
        router.replace('/dashboard');
        router.refresh();
      },
    }),
  );
  return (
    <>
      <div className="card">
        <h1>Sign in</h1>
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            signIn.mutate({ email, password });
          }}
        >
          <label className="stack tight">
            <span className="muted small">Email</span>
            <input name="email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
          </label>
          <label className="stack tight">
            <span className="muted small">Password</span>
            <input name="password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required />
          </label>
          <button type="submit" disabled={signIn.isPending}>
            {signIn.isPending ? 'Signing in…' : 'Sign in'}
          </button>
          {signIn.error && <p className="error">{signIn.error.message}</p>}
        </form>
      </div>
      <div className="card users">
        <h2>Demo users</h2>
        <p className="muted small">
          Password <code>{demoPassword}</code> for all. Two tenants: a <code>globex</code> user never sees <code>acme</code>&apos;s data.
        </p>
        <table>
          <tbody>
            {users.map((u) => (
              <tr
                key={u.email}
                className={u.email === email ? 'selected clickable' : 'clickable'}
                onClick={() => {
                  setEmail(u.email);
                  setPassword(demoPassword);
                }}
              >
                <td>
                  <div>{u.name}</div>
                  <div className="muted small">{u.email}</div>
                </td>
                <td className="muted small">
                  {u.tenantId} · {u.role}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
