import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

// scrypt parameters: N=2^14 (~15 ms on these machines), r=8, p=1.
const KEY_LENGTH = 32;

/** Hashes a password as `scrypt$<salt>$<hash>` (base64url). Synchronous: for seeding, not for request paths. */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, KEY_LENGTH);
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** Derives `length` bytes from a password and salt (scrypt with the parameters above, on the thread pool). */
export type KeyDerivation = (password: string, salt: Buffer, length: number) => Promise<Buffer>;

const scryptAsync: KeyDerivation = (password, salt, length) =>
  new Promise<Buffer>((resolve, reject) => scrypt(password, salt, length, (error, key) => (error ? reject(error) : resolve(key))));

/**
 * Checked instead of a stored hash when there is none, so an unknown email
 * costs the same scrypt as a wrong password. Its hash part is random bytes,
 * not a real hash: the check fails whatever it holds, and computing one
 * would block the event loop for a synchronous scrypt at startup.
 */
const NO_USER_HASH = `scrypt$${randomBytes(16).toString('base64url')}$${randomBytes(KEY_LENGTH).toString('base64url')}`;

/**
 * A password check using `derive` (default: scrypt on libuv's thread pool);
 * tests pass a counting one to prove every path derives exactly once.
 */
export function createPasswordCheck(derive: KeyDerivation = scryptAsync) {
  return async (password: string, stored: string | null): Promise<boolean> => {
    const [scheme, saltText, hashText] = (stored ?? NO_USER_HASH).split('$');
    if (scheme !== 'scrypt' || !saltText || !hashText) return false;
    const expected = Buffer.from(hashText, 'base64url');
    const actual = await derive(password, Buffer.from(saltText, 'base64url'), expected.length);
    return stored !== null && expected.length === actual.length && timingSafeEqual(expected, actual);
  };
}

/**
 * Constant-time check of a password against {@link hashPassword}'s output
 * (`stored` null: no such user; always false, after the same work). scrypt
 * runs on libuv's thread pool: each check takes ~15–45 ms of CPU, which on
 * the event loop would hold up every stream and request of the process.
 */
export const verifyPassword: (password: string, stored: string | null) => Promise<boolean> = createPasswordCheck();
