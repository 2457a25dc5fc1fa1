import { generateKeyPair, exportSPKI, SignJWT, UnsecuredJWT, type CryptoKey } from 'jose';

/** Claims of a seeded user as the app signs them. */
export const aliceClaims = { tid: 'acme', role: 'admin', name: 'Alice Admin', email: 'alice@acme.test' } as const;

export interface TokenOptions {
  secret?: string;
  alg?: 'HS256' | 'RS256' | 'ES256';
  key?: CryptoKey | Uint8Array;
  sub?: string;
  claims?: Record<string, unknown>;
  issuer?: string;
  audience?: string;
  /** Seconds from now (negative: in the past). */
  expiresIn?: number;
  notBeforeIn?: number;
}

/** Signs a token the way an attacker or an identity provider might. */
export async function makeToken(options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const alg = options.alg ?? 'HS256';
  const jwt = new SignJWT({ ...aliceClaims, ...options.claims })
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setSubject(options.sub ?? 'usr_alice')
    .setIssuer(options.issuer ?? 'trpc-live')
    .setAudience(options.audience ?? 'trpc-live:app')
    .setIssuedAt()
    .setExpirationTime(now + (options.expiresIn ?? 3600));
  if (options.notBeforeIn !== undefined) jwt.setNotBefore(now + options.notBeforeIn);
  const key = options.key ?? new TextEncoder().encode(options.secret ?? process.env.AUTH_SECRET!);
  return jwt.sign(key);
}

/** An `alg: none` token with valid-looking claims. */
export function unsecuredToken(): string {
  const now = Math.floor(Date.now() / 1000);
  return new UnsecuredJWT({ ...aliceClaims })
    .setSubject('usr_alice')
    .setIssuer('trpc-live')
    .setAudience('trpc-live:app')
    .setExpirationTime(now + 3600)
    .encode();
}

/** Replaces the tenant claim of a signed token without re-signing it. */
export function tamperTenant(token: string, tenant: string): string {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
  claims.tid = tenant;
  return [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
}

/** An identity provider's RS256 key pair and its public key as PEM. */
export async function rsaIdentityProvider() {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, publicKey, pem: await exportSPKI(publicKey) };
}
