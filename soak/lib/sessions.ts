import { authConfigFromEnv, type AuthConfig } from '../../src/server/auth/config';
import { signToken } from '../../src/server/auth/tokens';
import { SOAK_AUTH_SECRET } from './server';

let config: Promise<AuthConfig> | null = null;

/** Who a soak session is. Tenants need not exist in the database: the live stream only reads the token. */
export interface SoakIdentity {
  readonly tenantId: string;
  readonly userId: string;
  readonly role: 'admin' | 'staff';
  /** Token claim bounding the topics its stream may receive. @default none (everything) */
  readonly topics?: readonly string[];
}

/**
 * A `live_session` cookie for `identity`, signed as the app signs sessions
 * (HS256, the soak server's AUTH_SECRET unless `secret` forges one, the
 * app's issuer and audience). A negative `ttlSeconds` makes it expired.
 */
export async function sessionCookie(identity: SoakIdentity, ttlSeconds = 4 * 3600, secret?: string): Promise<string> {
  config ??= authConfigFromEnv({ AUTH_SECRET: SOAK_AUTH_SECRET });
  const token = await signToken(
    {
      userId: identity.userId,
      tenantId: identity.tenantId,
      role: identity.role,
      name: identity.userId,
      email: `${identity.userId}@${identity.tenantId}.soak`,
      ...(identity.topics ? { topics: identity.topics } : {}),
    },
    secret ? await authConfigFromEnv({ AUTH_SECRET: secret }) : await config,
    { ttlSeconds },
  );
  return `live_session=${encodeURIComponent(token)}`;
}
