import { envValue } from '../env';
import { getAuthConfig } from './config';
import { isSessionRevoked } from './revocations';
import { signToken, verifyToken, type Claims } from './tokens';

/** Name of the httpOnly session cookie (also authenticates the browser's live stream). */
export const SESSION_COOKIE = 'live_session';
/** Session lifetime. */
export const SESSION_TTL_SECONDS = 12 * 60 * 60;

/** What a verified session says about the caller. */
export type Session = Claims;

/** Signs a session token (HS256, app secret, `aud` = the app audience). */
export async function signSession(session: Omit<Session, 'exp'>, ttlSeconds = SESSION_TTL_SECONDS): Promise<string> {
  return signToken(session, await getAuthConfig(), { ttlSeconds });
}

/**
 * Verifies a session token (cookie or `Authorization: Bearer`): signature,
 * algorithm, `exp`, `nbf`, `iss`, `aud`, and that its session (`sid`) was
 * not signed out. Returns `null` for anything invalid.
 */
export async function verifySession(token: string): Promise<Session | null> {
  const result = await verifyToken(token, await getAuthConfig());
  return result.ok && !isSessionRevoked(result.claims) ? result.claims : null;
}

/** Reads one cookie from a `Cookie` header. */
export function readCookie(header: string | null | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** The bearer token of an `Authorization` header, or `null`. */
export function readBearer(header: string | null | undefined): string | null {
  const match = header ? /^Bearer\s+([A-Za-z0-9_\-.]{10,4096})$/i.exec(header.trim()) : null;
  return match ? match[1]! : null;
}

/** `Set-Cookie` value for a session token (httpOnly, SameSite=Lax). */
export function sessionCookie(token: string, maxAgeSeconds = SESSION_TTL_SECONDS): string {
  const secure = envValue('COOKIE_SECURE') ? '; Secure' : '';
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure}`;
}

/** `Set-Cookie` value that clears the session. */
export function clearSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;
}
