import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetSignInLimiter, SIGN_IN_LIMITS, SignInLimiter } from '../../src/server/auth/signInLimiter';
import { DEMO_PASSWORD } from '../../src/server/db/seed';
import { useServedApp } from '../helpers/servedApp';

interface Answer {
  status: number;
  code: string;
  retryAfter: string | undefined;
}

describe('auth.signIn attempt limits (over HTTP, per socket address)', () => {
  const served = useServedApp();
  beforeEach(() => resetSignInLimiter());
  afterEach(() => vi.unstubAllEnvs());

  /** POSTs auth.signIn from a chosen loopback address (every 127.x address is this machine). */
  function signIn(email: string, password: string, from = '127.0.0.1', headers: Record<string, string> = {}): Promise<Answer> {
    const { port } = new URL(served.url);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          localAddress: from,
          method: 'POST',
          path: '/api/trpc/auth.signIn',
          headers: { 'content-type': 'application/json', origin: served.url, ...headers },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              code: /"code":"([A-Z_]+)"/.exec(body)?.[1] ?? 'OK',
              retryAfter: res.headers['retry-after'] as string | undefined,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ json: { email, password } }));
    });
  }
  const fail = async (times: number, email: (i: number) => string, from: string, headers?: Record<string, string>) => {
    for (let i = 0; i < times; i++) expect(await signIn(email(i), 'wrong-password', from, headers)).toMatchObject({ status: 401 });
  };

  it('answers 429 with Retry-After after 5 failures for one email from one address, even to the right password', async () => {
    await fail(SIGN_IN_LIMITS.emailAtAddress, () => 'alice@acme.test', '127.0.0.11');
    const refused = await signIn('alice@acme.test', DEMO_PASSWORD, '127.0.0.11');
    expect(refused).toMatchObject({ status: 429, code: 'TOO_MANY_REQUESTS' });
    expect(Number(refused.retryAfter)).toBeGreaterThan(SIGN_IN_LIMITS.windowMs / 1000 - 60);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(SIGN_IN_LIMITS.windowMs / 1000);
    // The real user, from their own address, is not locked out by the attacker's.
    expect(await signIn('alice@acme.test', DEMO_PASSWORD, '127.0.0.12')).toMatchObject({ status: 200 });
  });

  it('answers 429 to an address that sprays many emails, and not to other addresses', async () => {
    await fail(SIGN_IN_LIMITS.address, (i) => `nobody${i}@acme.test`, '127.0.0.21');
    expect(await signIn('bob@acme.test', DEMO_PASSWORD, '127.0.0.21')).toMatchObject({ status: 429, code: 'TOO_MANY_REQUESTS' });
    expect(await signIn('bob@acme.test', DEMO_PASSWORD, '127.0.0.22')).toMatchObject({ status: 200 });
  });

  it('locks one email guessed from many addresses, and no other email', async () => {
    const addresses = Math.ceil(SIGN_IN_LIMITS.email / SIGN_IN_LIMITS.emailAtAddress);
    for (let a = 0; a < addresses; a++) await fail(SIGN_IN_LIMITS.emailAtAddress, () => 'carol@globex.test', `127.0.1.${a + 1}`);
    expect(await signIn('carol@globex.test', DEMO_PASSWORD, '127.0.2.1')).toMatchObject({ status: 429 });
    expect(await signIn('dave@globex.test', DEMO_PASSWORD, '127.0.2.1')).toMatchObject({ status: 200 });
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY says a proxy writes it', async () => {
    // An attacker rotating the header is still one socket address.
    for (let i = 0; i < SIGN_IN_LIMITS.emailAtAddress; i++) {
      await signIn('alice@acme.test', 'wrong-password', '127.0.0.31', { 'x-forwarded-for': `10.0.0.${i}` });
    }
    expect(await signIn('alice@acme.test', DEMO_PASSWORD, '127.0.0.31', { 'x-forwarded-for': '10.0.0.99' })).toMatchObject({ status: 429 });
    // Behind one trusted proxy, the address it appended (rightmost) is the client; what the client wrote is not.
    vi.stubEnv('TRUST_PROXY', '1');
    await fail(SIGN_IN_LIMITS.emailAtAddress, () => 'bob@acme.test', '127.0.0.32', { 'x-forwarded-for': '1.1.1.1, 203.0.113.7' });
    expect(await signIn('bob@acme.test', DEMO_PASSWORD, '127.0.0.32', { 'x-forwarded-for': '9.9.9.9, 203.0.113.7' })).toMatchObject({ status: 429 });
    expect(await signIn('bob@acme.test', DEMO_PASSWORD, '127.0.0.32', { 'x-forwarded-for': '1.1.1.1, 203.0.113.8' })).toMatchObject({ status: 200 });
  });

  it('clears the failures of an email at an address when the right password comes', async () => {
    await fail(SIGN_IN_LIMITS.emailAtAddress - 1, () => 'bob@acme.test', '127.0.0.41');
    expect(await signIn('bob@acme.test', DEMO_PASSWORD, '127.0.0.41')).toMatchObject({ status: 200 });
    await fail(SIGN_IN_LIMITS.emailAtAddress - 1, () => 'bob@acme.test', '127.0.0.41');
    expect(await signIn('bob@acme.test', DEMO_PASSWORD, '127.0.0.41')).toMatchObject({ status: 200 });
  });
});

describe('SignInLimiter', () => {
  it('keeps its memory bounded whatever the number of emails and addresses', () => {
    const limiter = new SignInLimiter();
    for (let i = 0; i < 25_000; i++) limiter.attempt(`user${i}@x.test`, `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 1_000);
    const { pair, address, email } = limiter.tracked;
    expect(Math.max(pair, address, email)).toBe(10_000);
  });

  it('counts an attempt when it starts, so concurrent guesses cannot all pass the check', () => {
    const limiter = new SignInLimiter();
    const started = Array.from({ length: 20 }, () => limiter.attempt('alice@acme.test', '10.0.0.1', 1_000));
    expect(started.filter((a) => a.ok)).toHaveLength(SIGN_IN_LIMITS.emailAtAddress);
  });

  it('lets an email try again once its oldest failure leaves the window', () => {
    const limiter = new SignInLimiter();
    for (let i = 0; i < SIGN_IN_LIMITS.emailAtAddress; i++) limiter.attempt('a@x.test', '10.0.0.1', 1_000 + i);
    expect(limiter.attempt('a@x.test', '10.0.0.1', 2_000)).toEqual({ ok: false, retryAfterSeconds: 899 });
    expect(limiter.attempt('a@x.test', '10.0.0.1', 1_000 + SIGN_IN_LIMITS.windowMs).ok).toBe(true);
  });
});
