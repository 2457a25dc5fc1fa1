import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, exportSPKI } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { authConfigFromEnv, type AuthConfig } from '../../src/server/auth/config';
import { verifyToken } from '../../src/server/auth/tokens';
import { makeToken, rsaIdentityProvider, tamperTenant, unsecuredToken } from '../helpers/tokens';

// Random per run: no secret written in the repository verifies anything.
const SECRET = randomBytes(32).toString('base64url');

describe('verifyToken: each attack is refused for the right reason', () => {
  let config: AuthConfig;
  let idp: Awaited<ReturnType<typeof rsaIdentityProvider>>;
  beforeAll(async () => {
    idp = await rsaIdentityProvider();
    config = await authConfigFromEnv({ AUTH_SECRET: SECRET, AUTH_PUBLIC_KEY: idp.pem, AUTH_ALGORITHM: 'RS256' });
  });
  const verify = (token: string) => verifyToken(token, config);

  it('accepts the app HS256 session and the IdP RS256 token', async () => {
    expect(await verify(await makeToken({ secret: SECRET }))).toMatchObject({ ok: true, claims: { tenantId: 'acme' } });
    expect(await verify(await makeToken({ alg: 'RS256', key: idp.privateKey }))).toMatchObject({ ok: true });
  });

  it.each([
    ['expired', () => makeToken({ secret: SECRET, expiresIn: -60 }), 'expired'],
    ['not yet valid', () => makeToken({ secret: SECRET, notBeforeIn: 3600 }), 'not-yet-valid'],
    ['wrong signature', () => makeToken({ secret: randomBytes(32).toString('base64url') }), 'signature'],
    ['alg none', async () => unsecuredToken(), 'algorithm'],
    ['HS/RS confusion', () => makeToken({ alg: 'HS256', key: new TextEncoder().encode(idp.pem) }), 'signature'],
    ['wrong issuer', () => makeToken({ secret: SECRET, issuer: 'evil' }), 'issuer'],
    ['wrong audience', () => makeToken({ secret: SECRET, audience: 'other' }), 'audience'],
    ['tampered tenant', async () => tamperTenant(await makeToken({ secret: SECRET }), 'globex'), 'signature'],
    ['garbage', async () => 'not.a.jwt', 'malformed'],
    ['missing tenant claim', () => makeToken({ secret: SECRET, claims: { tid: undefined } }), 'claims'],
  ])('refuses %s', async (_name, make, reason) => {
    expect(await verify(await make())).toEqual({ ok: false, reason });
  });

  it('refuses RS256 tokens when no public key is configured', async () => {
    const hsOnly = await authConfigFromEnv({ AUTH_SECRET: SECRET });
    expect(await verifyToken(await makeToken({ alg: 'RS256', key: idp.privateKey }), hsOnly)).toEqual({ ok: false, reason: 'algorithm' });
  });

  it('verifies ES256 tokens against a JWKS-style key when configured for ES256', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const es = await authConfigFromEnv({ AUTH_SECRET: SECRET, AUTH_PUBLIC_KEY: await exportSPKI(publicKey), AUTH_ALGORITHM: 'ES256' });
    expect(await verifyToken(await makeToken({ alg: 'ES256', key: privateKey }), es)).toMatchObject({ ok: true });
    expect(await verifyToken(await makeToken({ alg: 'RS256', key: idp.privateKey }), es)).toEqual({ ok: false, reason: 'algorithm' });
  });

  it('verifies RS256 tokens against a JWKS URL (served on loopback) and refuses unknown key ids', async () => {
    const jwk = { ...(await exportJWK(idp.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
      const jwks = await authConfigFromEnv({ AUTH_SECRET: SECRET, AUTH_JWKS_URL: url, AUTH_ALGORITHM: 'RS256' });
      const { SignJWT } = await import('jose');
      const signed = (kid: string) =>
        new SignJWT({ tid: 'acme', role: 'staff' })
          .setProtectedHeader({ alg: 'RS256', kid })
          .setSubject('usr_bob')
          .setIssuer('trpc-live')
          .setAudience('trpc-live:app')
          .setExpirationTime('1h')
          .sign(idp.privateKey);
      expect(await verifyToken(await signed('k1'), jwks)).toMatchObject({ ok: true, claims: { userId: 'usr_bob' } });
      expect(await verifyToken(await signed('unknown'), jwks)).toMatchObject({ ok: false });
    } finally {
      server.close();
    }
  });

  it('rejects bad configuration with clear messages', async () => {
    await expect(authConfigFromEnv({ AUTH_SECRET: 'short' })).rejects.toThrow(/^AUTH_SECRET must be at least 32 bytes/);
    await expect(authConfigFromEnv({ AUTH_PUBLIC_KEY: idp.pem })).rejects.toThrow(/AUTH_ALGORITHM/);
    await expect(authConfigFromEnv({ AUTH_ALGORITHM: 'HS512' })).rejects.toThrow(/RS256, ES256/);
    await expect(authConfigFromEnv({ AUTH_JWKS_URL: 'not a url' })).rejects.toThrow(/valid URL/);
  });
});

describe('verifyToken: a token that passed is remembered, never past its expiry', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('verifies the same session once, then answers from memory', async () => {
    const config = await authConfigFromEnv({ AUTH_SECRET: SECRET });
    const token = await makeToken({ secret: SECRET });
    const verify = vi.spyOn(crypto.subtle, 'verify');
    expect(await verifyToken(token, config)).toMatchObject({ ok: true });
    expect(await verifyToken(token, config)).toMatchObject({ ok: true, claims: { tenantId: 'acme' } });
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('refuses a remembered token once it expired (clock tolerance included), as a fresh check would', async () => {
    const config = await authConfigFromEnv({ AUTH_SECRET: SECRET, AUTH_CLOCK_TOLERANCE_S: '5' });
    vi.useFakeTimers({ toFake: ['Date'] });
    const token = await makeToken({ secret: SECRET, expiresIn: 30 });
    expect(await verifyToken(token, config)).toMatchObject({ ok: true });
    vi.setSystemTime(Date.now() + 33_000);
    expect(await verifyToken(token, config)).toMatchObject({ ok: true });
    vi.setSystemTime(Date.now() + 3_000);
    expect(await verifyToken(token, config)).toEqual({ ok: false, reason: 'expired' });
  });

  it('checks the signature again after a minute, whatever the expiry (a key removed from the JWKS stops passing)', async () => {
    const config = await authConfigFromEnv({ AUTH_SECRET: SECRET });
    vi.useFakeTimers({ toFake: ['Date'] });
    const token = await makeToken({ secret: SECRET, expiresIn: 3600 });
    const verify = vi.spyOn(crypto.subtle, 'verify');
    await verifyToken(token, config);
    vi.setSystemTime(Date.now() + 59_000);
    await verifyToken(token, config);
    expect(verify).toHaveBeenCalledTimes(1);
    vi.setSystemTime(Date.now() + 2_000);
    expect(await verifyToken(token, config)).toMatchObject({ ok: true });
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('does not remember refusals, nor let a token pass for another audience', async () => {
    const config = await authConfigFromEnv({ AUTH_SECRET: SECRET });
    const token = await makeToken({ secret: SECRET });
    expect(await verifyToken(token, config)).toMatchObject({ ok: true });
    expect(await verifyToken(token, config, 'trpc-live:other')).toEqual({ ok: false, reason: 'audience' });
    const forged = await makeToken({ secret: randomBytes(32).toString('base64url') });
    expect(await verifyToken(forged, config)).toEqual({ ok: false, reason: 'signature' });
    expect(await verifyToken(forged, config)).toEqual({ ok: false, reason: 'signature' });
  });
});
