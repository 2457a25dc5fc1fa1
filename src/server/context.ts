import { createPublishLog, type PublishLog } from '../live/trpc';
import { readCookie, SESSION_COOKIE, verifySession, type Session } from './auth/session';
import { getDb, type Db } from './db/connection';

/** Per-request context of every procedure. */
export interface Context {
  readonly db: Db;
  /** The verified session, or `null` when signed out. */
  readonly session: Session | null;
  /** Response headers (cookies set by sign-in/out). */
  readonly resHeaders: Headers;
  /** What this request's mutations published (the read-your-writes fence). */
  readonly live: PublishLog;
}

/** What context creation reads from a request; shared by every transport. */
export interface ContextInput {
  readonly headers: Headers;
  readonly resHeaders?: Headers;
}

/** Creates the context from request headers: the session comes from the httpOnly cookie. */
export async function createContext({ headers, resHeaders }: ContextInput): Promise<Context> {
  const token = readCookie(headers.get('cookie'), SESSION_COOKIE);
  const session = token ? await verifySession(token) : null;
  return { db: getDb(), session, resHeaders: resHeaders ?? new Headers(), live: createPublishLog() };
}
