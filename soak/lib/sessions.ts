import { authConfigFromEnv, type AuthConfig } from '../../src/server/auth/config';
import { STREAM_AUDIENCE } from '../../src/server/auth/credential';
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

/**
 * A stream credential for `identity` (audience `trpc-live:stream`, as the
 * server exchanges a ticket for): valid for `live.stream` and nothing else.
 */
export async function streamCredential(identity: SoakIdentity, ttlSeconds = 3600): Promise<string> {
  config ??= authConfigFromEnv({ AUTH_SECRET: SOAK_AUTH_SECRET });
  return signToken(
    { userId: identity.userId, tenantId: identity.tenantId, role: identity.role, name: identity.userId, email: `${identity.userId}@${identity.tenantId}.soak` },
    await config,
    { ttlSeconds, audience: STREAM_AUDIENCE },
  );
}

/**
 * A session cookie of a real sign-in that was then signed out (revoked on
 * the server): every procedure must treat it as no session.
 */
export async function revokedSessionCookie(base: string, email: string, password: string): Promise<string> {
  const json = { 'content-type': 'application/json', origin: base };
  const res = await fetch(`${base}/api/trpc/auth.signIn`, { method: 'POST', headers: json, body: JSON.stringify({ json: { email, password } }) });
  if (!res.ok) throw new Error(`sign-in for the revoked-session case failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
  const out = await fetch(`${base}/api/trpc/auth.signOut`, { method: 'POST', headers: { ...json, cookie } });
  if (!out.ok) throw new Error(`sign-out for the revoked-session case failed: ${out.status}`);
  return cookie;
}
