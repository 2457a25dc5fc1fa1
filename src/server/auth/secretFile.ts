import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

/** Name of the generated secret's file in `DATA_DIR`. */
export const SECRET_FILE_NAME = 'auth-secret';
/** Bytes of a generated secret (256 bits, HS256's own strength), and the least an `AUTH_SECRET` may have. */
export const SECRET_MIN_BYTES = 32;

/** The secret kept in a data folder, and whether this call created it. */
export interface StoredSecret {
  readonly secret: Uint8Array;
  readonly file: string;
  readonly created: boolean;
}

function readSecret(file: string): Uint8Array {
  const secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  if (secret.length < SECRET_MIN_BYTES) {
    throw new Error(
      `${file} does not hold a secret of ${SECRET_MIN_BYTES}+ bytes (base64url): delete it to have a new one generated (signs everyone out), or set AUTH_SECRET`,
    );
  }
  if ((statSync(file).mode & 0o077) !== 0) {
    console.warn(`[auth] ${file} is readable by other users of this machine: chmod 600 it`);
  }
  return new Uint8Array(secret);
}

/**
 * The HS256 secret of a zero-config start: read from `<dir>/auth-secret`,
 * or, on the first start, 32 random bytes written there (base64url, mode
 * 0600), so sessions survive restarts and no secret ships with the code.
 *
 * Creation is atomic: the bytes go to a temporary file created with O_EXCL
 * and mode 0600, which is then hard-linked to the final name. `link` fails if
 * the name exists, so when two processes (instances sharing `DATA_DIR`, or
 * Next's bundles and the Node entry) start together, one wins and both read
 * the winner's complete file; nobody ever reads a half-written secret, which
 * creating the final file with O_EXCL and then writing it would allow.
 * @throws when the folder is not writable or the file holds no valid secret.
 */
export function loadOrCreateSecret(dir: string): StoredSecret {
  const file = path.join(dir, SECRET_FILE_NAME);
  try {
    return { secret: readSecret(file), file, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temp, 'wx', 0o600);
  let created = true;
  try {
    try {
      writeSync(fd, `${randomBytes(SECRET_MIN_BYTES).toString('base64url')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    created = false;
  } finally {
    unlinkSync(temp);
  }
  return { secret: readSecret(file), file, created };
}
