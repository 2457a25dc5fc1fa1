import { jwtVerify, SignJWT, errors as joseErrors } from 'jose';

/** Name of the httpOnly session cookie (also authenticates the live stream). */
export const SESSION_COOKIE = 'live_session';
/** Session lifetime. */
export const SESSION_TTL_SECONDS = 12 * 60 * 60;
const ISSUER = 'trpc-live';
const AUDIENCE = 'trpc-live:app';

/** What a verified session says about the caller. */
export interface Session {
  readonly userId: string;
  readonly tenantId: string;
  readonly role: 'admin' | 'staff';
  readonly name: string;
  readonly email: string;
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
}

const DEV_SECRET = 'trpc-live-development-secret-change-me-0123456789';
let warned = false;

function secretKey(): Uint8Array {
  let secret = process.env.AUTH_SECRET;
  if (!secret) {
    if (!warned) {
      warned = true;
      console.warn(
        '[auth] AUTH_SECRET is not set: using the built-in development secret. Set AUTH_SECRET (32+ characters) before deploying.',
      );
    }
    secret = DEV_SECRET;
  } else if (secret.length < 32) {
    throw new Error('AUTH_SECRET must be at least 32 characters long');
  }
  return new TextEncoder().encode(secret);
}

/** Signs a session token (HS256). */
export async function signSession(session: Omit<Session, 'exp'>, ttlSeconds = SESSION_TTL_SECONDS): Promise<string> {
  return new SignJWT({ tid: session.tenantId, role: session.role, name: session.name, email: session.email })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(session.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(secretKey());
}

/**
 * Verifies a session token: signature (HS256 only), `exp`, `nbf`, `iss`,
 * `aud`. Returns `null` for anything invalid.
 */
export async function verifySession(token: string): Promise<Session | null> {
  try {
    const { payload } = await jwtVerify(token, secretKey(), {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    const { sub, tid, role, name, email, exp } = payload as Record<string, unknown>;
    if (typeof sub !== 'string' || typeof tid !== 'string' || typeof exp !== 'number') return null;
    if (role !== 'admin' && role !== 'staff') return null;
    return { userId: sub, tenantId: tid, role, name: String(name ?? ''), email: String(email ?? ''), exp };
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) return null;
    throw error;
  }
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

/** `Set-Cookie` value for a session token (httpOnly, SameSite=Lax). */
export function sessionCookie(token: string, maxAgeSeconds = SESSION_TTL_SECONDS): string {
  const secure = process.env.COOKIE_SECURE === 'true' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure}`;
}

/** `Set-Cookie` value that clears the session. */
export function clearSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;
}
