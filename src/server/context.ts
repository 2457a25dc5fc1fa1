import { createPublishLog, type PublishLog } from 'trpc-live/trpc';
import { CREDENTIAL_HEADER, issueCredential, verifyCredential } from './auth/credential';
import { readBearer, readCookie, SESSION_COOKIE, verifySession, type Session } from './auth/session';
import { clientAddress } from './auth/clientAddress';
import { isSessionRevoked } from './auth/revocations';
import { redeemTicket } from './auth/tickets';
import { getDb, type Db } from './db/database';

/**
 * How the caller authenticated. `ticket` and `credential` are for the live
 * stream only (non-browser clients); every other procedure refuses them.
 */
export type AuthMethod = 'cookie' | 'bearer' | 'ticket' | 'credential';

/** Per-request context of every procedure. */
export interface Context {
  readonly db: Db;
  /** The verified session, or `null` when signed out. */
  readonly session: Session | null;
  /**
   * What the caller presented. With `ticket` or `credential`, `session` is
   * `null`: only the live stream's procedure turns them into a session,
   * through {@link streamSession}.
   */
  readonly authMethod: AuthMethod | null;
  /**
   * Redeems the ticket or verifies the stream credential of the request's
   * connection params (`null`: none, or invalid). Only `streamProcedure`
   * (src/server/trpc/init.ts) calls it, so a ticket sent to any other procedure is
   * neither accepted nor spent. Redeeming a ticket sets the credential
   * response header. At most one redemption per request (memoized).
   */
  readonly streamSession: () => Promise<Session | null>;
  /** Response headers (cookies set by sign-in/out, the stream credential). */
  readonly resHeaders: Headers;
  /** The client's address for per-address limits (see `auth/clientAddress.ts`); `null` when unknown. */
  readonly clientAddress: string | null;
  /** What this request's mutations published (the read-your-writes fence). */
  readonly publishLog: PublishLog;
}

/** What context creation reads from a request; shared by every transport. */
export interface ContextInput {
  readonly headers: Headers;
  readonly resHeaders?: Headers;
  /** tRPC connection params (`httpSubscriptionLink`'s `connectionParams`): `{ ticket }` or `{ credential }`. */
  readonly connectionParams?: { readonly [key: string]: string | undefined } | null;
  /** The socket's peer address, when the transport knows it (the Node entry does; the Next route does not). */
  readonly remoteAddress?: string;
}

async function authenticate(input: ContextInput) {
  const cookie = readCookie(input.headers.get('cookie'), SESSION_COOKIE);
  if (cookie) {
    const session = await verifySession(cookie);
    if (session) return { session, authMethod: 'cookie' as const };
  }
  const bearer = readBearer(input.headers.get('authorization'));
  if (bearer) {
    const session = await verifySession(bearer);
    if (session) return { session, authMethod: 'bearer' as const };
  }
  const params = input.connectionParams;
  if (params && typeof params.ticket === 'string') return { session: null, authMethod: 'ticket' as const };
  if (params && typeof params.credential === 'string') return { session: null, authMethod: 'credential' as const };
  return null;
}

/** The stream-only authentication of {@link Context.streamSession}: a ticket, else a credential. */
async function streamAuthenticate(input: ContextInput, db: Db, resHeaders: Headers): Promise<Session | null> {
  const params = input.connectionParams;
  if (params && typeof params.ticket === 'string') {
    const redeemed = redeemTicket(db, params.ticket);
    if (!redeemed.ok || redeemed.claims.exp * 1000 <= Date.now() || isSessionRevoked(redeemed.claims, db)) return null;
    // The spent ticket is exchanged for a credential the client presents on reconnects.
    resHeaders.set(CREDENTIAL_HEADER, await issueCredential(redeemed.claims));
    return redeemed.claims;
  }
  if (params && typeof params.credential === 'string') return verifyCredential(params.credential);
  return null;
}

/**
 * Creates the context from a request: the session comes from the httpOnly
 * cookie (browsers), an `Authorization: Bearer` token, or, for the live
 * stream of non-browser clients, a one-time ticket or connection credential.
 */
export async function createContext(input: ContextInput): Promise<Context> {
  const db = getDb();
  const resHeaders = input.resHeaders ?? new Headers();
  const auth = await authenticate(input);
  let streamSession: Promise<Session | null> | undefined;
  return {
    db,
    session: auth?.session ?? null,
    authMethod: auth?.authMethod ?? null,
    streamSession: () => (streamSession ??= streamAuthenticate(input, db, resHeaders)),
    resHeaders,
    clientAddress: clientAddress(input.headers, input.remoteAddress),
    publishLog: createPublishLog(),
  };
}
