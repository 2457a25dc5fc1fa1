import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../src/server/auth/password';
import { createContext } from '../../src/server/context';
import { DEMO_PASSWORD } from '../../src/server/db/seed';
import { appRouter } from '../../src/server/routers/_app';
import { createCallerFactory } from '../../src/trpc/init';
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

  it('runs the same scrypt for a missing hash (an unknown email) instead of answering at once', async () => {
    let loopTurned = false;
    setImmediate(() => (loopTurned = true));
    expect(await verifyPassword('correct horse', null)).toBe(false);
    // An early `return false` would resolve in microtasks, before the immediate.
    expect(loopTurned).toBe(true);
  });
});
