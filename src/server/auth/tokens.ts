import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { AuthConfig } from './config';

/** What a verified token says about the caller. */
export interface Claims {
  readonly userId: string;
  readonly tenantId: string;
  readonly role: 'admin' | 'staff';
  readonly name: string;
  readonly email: string;
  /** Topic patterns the caller may receive (absent: everything in the tenant). */
  readonly topics?: readonly string[];
  /**
   * The sign-in session (`sid`), which sign-out revokes; carried into tickets
   * and stream credentials. Absent in tokens of an identity provider, which
   * end only when they expire.
   */
  readonly sessionId?: string;
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
}

/** Why a token was refused (for logs and tests; never shown to users). */
export type TokenRejection =
  | 'malformed'
  | 'algorithm'
  | 'signature'
  | 'expired'
  | 'not-yet-valid'
  | 'issuer'
  | 'audience'
  | 'claims';

export type VerifyResult = { ok: true; claims: Claims } | { ok: false; reason: TokenRejection };

function claimsFrom(payload: JWTPayload): Claims | null {
  const { sub, tid, role, name, email, exp, topics, sid } = payload as Record<string, unknown>;
  if (typeof sub !== 'string' || !sub || typeof tid !== 'string' || !tid || typeof exp !== 'number') return null;
  if (role !== 'admin' && role !== 'staff') return null;
  if (sid !== undefined && (typeof sid !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(sid))) return null;
  if (topics !== undefined && (!Array.isArray(topics) || !topics.every((t) => typeof t === 'string'))) return null;
  return {
    userId: sub,
    tenantId: tid,
    role,
    name: typeof name === 'string' ? name : '',
    email: typeof email === 'string' ? email : '',
    exp,
    ...(topics ? { topics: topics as string[] } : {}),
    ...(sid ? { sessionId: sid as string } : {}),
  };
}

function rejection(error: unknown): TokenRejection {
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'not-yet-valid';
    if (error.claim === 'iss') return 'issuer';
    if (error.claim === 'aud') return 'audience';
    return 'claims';
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JOSENotSupported) return 'algorithm';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature';
  return 'malformed';
}

/** HMAC verification keys by secret, imported once (see {@link hmacKey}). */
const hmacKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();

/**
 * The secret as a WebCrypto HMAC key for verifying. Handing jose the raw bytes
 * makes it import a key on every call, which was most of a session check's
 * cost (every tRPC request checks the session cookie).
 */
function hmacKey(secret: Uint8Array): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', new Uint8Array(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    hmacKeys.set(secret, key);
  }
  return key;
}

/** Most verified tokens remembered per configuration (oldest forgotten first). */
const VERIFIED_MAX = 10_000;
/**
 * Longest a verification is reused, in ms, whatever the token's `exp`: bounds
 * how long a token signed with a key since removed from the JWKS still passes.
 */
const VERIFIED_TTL_MS = 60_000;
/** Tokens that passed, by configuration, audience and token text, with the time they stop passing. */
const verified = new WeakMap<AuthConfig, Map<string, { claims: Claims; until: number }>>();

/**
 * Verifies a token against the configuration: the algorithm picks the key
 * (HS256 → the app secret; RS256/ES256 → the identity provider's key), never
 * the token's own choice of key; `exp`, `nbf`, `iss` and `aud` are checked.
 *
 * A token that passed is remembered (by its exact text) until it expires, at
 * most {@link VERIFIED_TTL_MS}: every request checks the session cookie, and
 * the same cookie would otherwise be verified again each time. Refusals are
 * not remembered.
 */
export async function verifyToken(
  token: string,
  config: AuthConfig,
  audience: string = config.audience,
): Promise<VerifyResult> {
  let cache = verified.get(config);
  if (!cache) verified.set(config, (cache = new Map()));
  const cacheKey = `${audience}\n${token}`;
  const now = Date.now();
  const known = cache.get(cacheKey);
  if (known) {
    if (now < known.until) return { ok: true, claims: known.claims };
    cache.delete(cacheKey);
  }
  const result = await verifyFresh(token, config, audience);
  if (result.ok) {
    if (cache.size >= VERIFIED_MAX) cache.delete(cache.keys().next().value!);
    // jose accepts a token while now < exp + tolerance; so does the cache, and no longer than the TTL.
    cache.set(cacheKey, { claims: result.claims, until: Math.min(now + VERIFIED_TTL_MS, (result.claims.exp + config.clockToleranceSeconds) * 1000) });
  }
  return result;
}

async function verifyFresh(token: string, config: AuthConfig, audience: string): Promise<VerifyResult> {
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const options = { issuer: config.issuer, audience, clockTolerance: config.clockToleranceSeconds, requiredClaims: ['exp'] };
  try {
    let payload: JWTPayload;
    if (alg === 'HS256') {
      ({ payload } = await jwtVerify(token, await hmacKey(config.secret), { ...options, algorithms: ['HS256'] }));
    } else if (config.asymmetric && (alg === 'RS256' || alg === 'ES256')) {
      const allowed = config.asymmetric.algorithm ? [config.asymmetric.algorithm] : ['RS256', 'ES256'];
      if (!allowed.includes(alg)) return { ok: false, reason: 'algorithm' };
      const key = config.asymmetric.key;
      ({ payload } =
        typeof key === 'function'
          ? await jwtVerify(token, key, { ...options, algorithms: allowed })
          : await jwtVerify(token, key, { ...options, algorithms: allowed }));
    } else {
      // `none`, unknown algorithms, or asymmetric tokens without a configured key.
      return { ok: false, reason: 'algorithm' };
    }
    const claims = claimsFrom(payload);
    return claims ? { ok: true, claims } : { ok: false, reason: 'claims' };
  } catch (error) {
    return { ok: false, reason: rejection(error) };
  }
}

/** Signs claims as an HS256 token with the app secret. */
export async function signToken(
  claims: Omit<Claims, 'exp'>,
  config: AuthConfig,
  options: { ttlSeconds: number; audience?: string },
): Promise<string> {
  return new SignJWT({
    tid: claims.tenantId,
    role: claims.role,
    name: claims.name,
    email: claims.email,
    ...(claims.topics ? { topics: [...claims.topics] } : {}),
    ...(claims.sessionId ? { sid: claims.sessionId } : {}),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(config.issuer)
    .setAudience(options.audience ?? config.audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + options.ttlSeconds)
    .sign(config.secret);
}
