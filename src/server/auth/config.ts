import { createRemoteJWKSet, importSPKI, type CryptoKey, type JWTVerifyGetKey } from 'jose';
import { dataDir } from '../db/connection';
import { loadOrCreateSecret, SECRET_MIN_BYTES } from './secretFile';

/** Algorithms accepted from an external identity provider's public key or JWKS. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256'] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/**
 * How session tokens are verified. The app always signs its own sessions
 * with HS256 and `secret`; a deployment may additionally accept RS256/ES256
 * tokens from an identity provider (`publicKey` or `jwksUrl`). Each algorithm
 * is bound to its own key, so a token can never be verified with the wrong
 * kind of key (algorithm confusion), and `alg: none` is never accepted.
 */
export interface AuthConfig {
  /**
   * HS256 secret: AUTH_SECRET (32+ bytes), else 32 random bytes generated on
   * the first start and kept in `DATA_DIR/auth-secret` (see `secretFile.ts`).
   * There is no built-in secret in any mode.
   */
  readonly secret: Uint8Array;
  /** Where the secret came from: the environment, or the file (and whether this start created it). */
  readonly secretSource: { readonly kind: 'env' } | { readonly kind: 'file'; readonly file: string; readonly created: boolean };
  /** Verifies RS256/ES256 tokens (AUTH_PUBLIC_KEY or AUTH_JWKS_URL), if configured. */
  readonly asymmetric: { readonly algorithm: AsymmetricAlgorithm | null; readonly key: CryptoKey | JWTVerifyGetKey } | null;
  /** Expected `iss` (AUTH_ISSUER). @default 'trpc-live' */
  readonly issuer: string;
  /** Expected `aud` (AUTH_AUDIENCE). @default 'trpc-live:app' */
  readonly audience: string;
  /** Clock skew tolerated for exp/nbf, seconds (AUTH_CLOCK_TOLERANCE_S). @default 5 */
  readonly clockToleranceSeconds: number;
}

/**
 * Reads {@link AuthConfig} from the environment; throws with a clear message
 * on bad values. Without AUTH_SECRET (unset or empty) the secret comes from
 * `DATA_DIR/auth-secret`, created on first use.
 */
export async function authConfigFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): Promise<AuthConfig> {
  const rawSecret = env.AUTH_SECRET || undefined;
  if (rawSecret !== undefined && Buffer.byteLength(rawSecret) < SECRET_MIN_BYTES) {
    throw new Error(
      `AUTH_SECRET must be at least ${SECRET_MIN_BYTES} bytes long (it has ${Buffer.byteLength(rawSecret)}); ` +
        'unset it to have a random one generated and kept in DATA_DIR',
    );
  }
  let asymmetric: AuthConfig['asymmetric'] = null;
  const algorithm = env.AUTH_ALGORITHM;
  if (algorithm !== undefined && !ASYMMETRIC_ALGORITHMS.includes(algorithm as AsymmetricAlgorithm)) {
    throw new Error(`AUTH_ALGORITHM must be one of ${ASYMMETRIC_ALGORITHMS.join(', ')}`);
  }
  if (env.AUTH_PUBLIC_KEY && env.AUTH_JWKS_URL) {
    throw new Error('Set either AUTH_PUBLIC_KEY or AUTH_JWKS_URL, not both');
  }
  if (env.AUTH_PUBLIC_KEY) {
    if (!algorithm) throw new Error('AUTH_PUBLIC_KEY needs AUTH_ALGORITHM (RS256 or ES256)');
    const pem = env.AUTH_PUBLIC_KEY.replace(/\\n/g, '\n');
    asymmetric = { algorithm: algorithm as AsymmetricAlgorithm, key: await importSPKI(pem, algorithm) };
  } else if (env.AUTH_JWKS_URL) {
    let url: URL;
    try {
      url = new URL(env.AUTH_JWKS_URL);
    } catch {
      throw new Error('AUTH_JWKS_URL is not a valid URL');
    }
    asymmetric = { algorithm: (algorithm as AsymmetricAlgorithm | undefined) ?? null, key: createRemoteJWKSet(url) };
  }
  const tolerance = Number(env.AUTH_CLOCK_TOLERANCE_S ?? 5);
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 300) {
    throw new Error('AUTH_CLOCK_TOLERANCE_S must be a number of seconds between 0 and 300');
  }
  // Last, so a configuration error above never leaves a secret file behind.
  const stored = rawSecret === undefined ? loadOrCreateSecret(dataDir(env)) : null;
  return {
    secret: stored ? stored.secret : new TextEncoder().encode(rawSecret),
    secretSource: stored ? { kind: 'file', file: stored.file, created: stored.created } : { kind: 'env' },
    asymmetric,
    issuer: env.AUTH_ISSUER ?? 'trpc-live',
    audience: env.AUTH_AUDIENCE ?? 'trpc-live:app',
    clockToleranceSeconds: tolerance,
  };
}

const CONFIG_KEY = Symbol.for('trpc-live.app.authConfig');
type ConfigGlobal = { [CONFIG_KEY]?: Promise<AuthConfig> };

/**
 * The process-wide auth configuration, read once from the environment (on
 * `globalThis`, shared by Next bundles and the Node entry). Says once where a
 * generated secret is kept.
 */
export function getAuthConfig(): Promise<AuthConfig> {
  const g = globalThis as ConfigGlobal;
  g[CONFIG_KEY] ??= authConfigFromEnv().then((config) => {
    const source = config.secretSource;
    if (source.kind === 'file') {
      console.log(
        `[auth] AUTH_SECRET is not set: signing sessions with the secret ${source.created ? 'generated now in' : 'kept in'} ${source.file}. ` +
          'Several instances must share it (same DATA_DIR, or one AUTH_SECRET).',
      );
    }
    return config;
  });
  return g[CONFIG_KEY];
}

/** Forgets the cached configuration (tests that change the environment). */
export function resetAuthConfig(): void {
  delete (globalThis as ConfigGlobal)[CONFIG_KEY];
}
