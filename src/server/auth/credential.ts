import { envValue } from '../env';
import { getAuthConfig } from './config';
import { isSessionRevoked } from './revocations';
import { signToken, verifyToken, type Claims } from './tokens';

/** Audience of stream credentials: they authenticate the live stream and nothing else. */
export const STREAM_AUDIENCE = 'trpc-live:stream';
/** Response header of the stream carrying the connection credential. */
export const CREDENTIAL_HEADER = 'x-live-credential';

/** Lifetime of a connection credential (LIVE_CREDENTIAL_TTL_S), capped by the session's own expiry. @default 3600 */
export function credentialTtlSeconds(): number {
  return envValue('LIVE_CREDENTIAL_TTL_S');
}

/**
 * A connection credential: what a spent ticket is exchanged for, so the
 * stream's automatic reconnects keep working. HS256 with the app secret,
 * audience {@link STREAM_AUDIENCE}, never longer-lived than the session.
 */
export async function issueCredential(claims: Claims, now = Date.now()): Promise<string> {
  const left = claims.exp - Math.floor(now / 1000);
  const ttl = Math.max(1, Math.min(credentialTtlSeconds(), left));
  const { exp: _exp, ...rest } = claims;
  return signToken(rest, await getAuthConfig(), { ttlSeconds: ttl, audience: STREAM_AUDIENCE });
}

/** Verifies a connection credential; `null` when invalid, expired, or its session was signed out. */
export async function verifyCredential(token: string): Promise<Claims | null> {
  const result = await verifyToken(token, await getAuthConfig(), STREAM_AUDIENCE);
  return result.ok && !isSessionRevoked(result.claims) ? result.claims : null;
}
