import { createRemoteJWKSet, importSPKI, type CryptoKey, type JWTVerifyGetKey } from 'jose';
import { dataDir } from '../db/database';
import { readEnv, type AsymmetricAlgorithm, type EnvSource } from '../env';
import { loadOrCreateSecret } from './secretFile';

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
 * Reads {@link AuthConfig} from the environment (parsed by `server/env.ts`,
 * which refuses bad values naming the variable). Without AUTH_SECRET (unset
 * or empty) the secret comes from `DATA_DIR/auth-secret`, created on first use.
 */
export async function authConfigFromEnv(source?: EnvSource): Promise<AuthConfig> {
  const env = readEnv(source);
  const algorithm = env.AUTH_ALGORITHM;
  let asymmetric: AuthConfig['asymmetric'] = null;
  if (env.AUTH_PUBLIC_KEY && algorithm) {
    asymmetric = { algorithm, key: await publicKey(env.AUTH_PUBLIC_KEY, algorithm) };
  } else if (env.AUTH_JWKS_URL) {
    asymmetric = { algorithm: algorithm ?? null, key: createRemoteJWKSet(new URL(env.AUTH_JWKS_URL)) };
  }
  // Last, so a configuration error above never leaves a secret file behind.
  const stored = env.AUTH_SECRET === undefined ? loadOrCreateSecret(dataDir(source)) : null;
  return {
    secret: stored ? stored.secret : new TextEncoder().encode(env.AUTH_SECRET),
    secretSource: stored ? { kind: 'file', file: stored.file, created: stored.created } : { kind: 'env' },
    asymmetric,
    issuer: env.AUTH_ISSUER,
    audience: env.AUTH_AUDIENCE,
    clockToleranceSeconds: env.AUTH_CLOCK_TOLERANCE_S,
  };
}

/** AUTH_PUBLIC_KEY as a key for `algorithm`; a PEM that is not one stops startup naming the variable. */
async function publicKey(pem: string, algorithm: AsymmetricAlgorithm): Promise<CryptoKey> {
  try {
    return await importSPKI(pem, algorithm);
  } catch (error) {
    throw new Error(`AUTH_PUBLIC_KEY must be a PEM SPKI public key for ${algorithm}`, { cause: error });
  }
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
