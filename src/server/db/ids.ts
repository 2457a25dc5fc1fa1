import { randomBytes } from 'node:crypto';

/** A short random id with a type prefix, e.g. `ord_Xb3k9QaZ`. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('base64url')}`;
}
