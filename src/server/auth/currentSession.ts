import { cookies } from 'next/headers';
import { SESSION_COOKIE, verifySession, type Session } from './session';

/** The session of the current server-component request, or `null`. */
export async function currentSession(): Promise<Session | null> {
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  return token ? verifySession(token) : null;
}
