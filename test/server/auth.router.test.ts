import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPasswordCheck, hashPassword, verifyPassword } from '../../src/server/auth/password';
import { resetSignInLimiter } from '../../src/server/auth/signInLimiter';
import { createContext } from '../../src/server/context';
import { DEMO_PASSWORD } from '../../src/server/db/seed';
import { appRouter } from '../../src/server/routers/_app';
import { createCallerFactory } from '../../src/server/trpc/init';
import { setupApp, type TestApp } from '../helpers/app';

const createCaller = createCallerFactory(appRouter);

describe('auth.signIn', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await setupApp();
  });
  afterAll(() => app.close());

  const signIn = async (email: string, password: string) => {
    const resHeaders = new Headers();
    const caller = createCaller(await createContext({ headers: new Headers(), resHeaders }));
    return { result: caller.auth.signIn({ email, password }), resHeaders };
  };

  it('signs a seeded user in and sets the httpOnly session cookie', async () => {
    const { result, resHeaders } = await signIn('alice@acme.test', DEMO_PASSWORD);
    await expect(result).resolves.toMatchObject({ name: 'Alice Admin' });
    expect(resHeaders.get('set-cookie')).toMatch(/^live_session=[^;]+;.*HttpOnly/i);
  });

  it('refuses a wrong password and an unknown email with the same error', async () => {
    const wrong = await (await signIn('alice@acme.test', 'not-the-password')).result.catch((e: unknown) => e);
    const unknown = await (await signIn('nobody@acme.test', DEMO_PASSWORD)).result.catch((e: unknown) => e);
    for (const error of [wrong, unknown]) {
      expect(error).toBeInstanceOf(TRPCError);
      expect(error).toMatchObject({ code: 'UNAUTHORIZED', message: 'Wrong email or password' });
    }
  });
});

describe('verifyPassword', () => {
  const stored = hashPassword('correct horse');

  it('accepts the password it was hashed from and refuses others and a missing hash', async () => {
    expect(await verifyPassword('correct horse', stored)).toBe(true);
    expect(await verifyPassword('correct horsf', stored)).toBe(false);
    expect(await verifyPassword('correct horse', null)).toBe(false);
    expect(await verifyPassword('correct horse', 'md5$x$y')).toBe(false);
  });

  it('does not hold the event loop while it hashes (scrypt runs on the thread pool)', async () => {
    let loopTurned = false;
    setImmediate(() => (loopTurned = true));
    expect(await verifyPassword('correct horse', stored)).toBe(true);
    // A synchronous scrypt would resolve before the event loop reached the immediate.
    expect(loopTurned).toBe(true);
  });

  it('derives a key exactly once, with the same salt and key length, for a missing hash (an unknown email)', async () => {
    const calls: { salt: number; length: number }[] = [];
    const check = createPasswordCheck(async (password, salt, length) => {
      calls.push({ salt: salt.length, length });
      return Buffer.alloc(length);
    });
    expect(await check('correct horse', stored)).toBe(false);
    expect(await check('correct horse', null)).toBe(false);
    expect(calls).toEqual([
      { salt: 16, length: 32 },
      { salt: 16, length: 32 },
    ]);
  });
});

describe('auth.signIn work for an unknown email', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await setupApp();
  });
  afterAll(() => app.close());

  /** Process CPU (every thread: scrypt runs on libuv's pool) spent by `rounds` refused sign-ins, in ms. */
  async function cpuMs(email: (i: number) => string, rounds: number): Promise<number> {
    resetSignInLimiter();
    const caller = createCaller(await createContext({ headers: new Headers() }));
    const start = process.cpuUsage();
    for (let i = 0; i < rounds; i++) await caller.auth.signIn({ email: email(i), password: 'not-the-password' }).catch(() => undefined);
    const { user, system } = process.cpuUsage(start);
    return (user + system) / 1000;
  }

  it('spends as much CPU as a wrong password does, so the answer tells nothing (a skipped scrypt would cost ~0)', async () => {
    const wrongPassword = await cpuMs(() => 'alice@acme.test', 4);
    const unknownEmail = await cpuMs((i) => `nobody${i}@acme.test`, 4);
    // 4 scrypts at N=2^14 cost ~60-180 ms of CPU here; without them a refused sign-in costs well under 1 ms.
    expect(wrongPassword).toBeGreaterThan(20);
    expect(unknownEmail).toBeGreaterThan(wrongPassword * 0.5);
  });
});
