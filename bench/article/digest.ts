import { createHash } from 'node:crypto';

/**
 * A short digest of a query result's JSON: what the simulated browsers log
 * for data that arrived by push and what the data oracle records for every
 * state a mutation left a query in, so "this pushed data reflects that
 * commit" is decided by comparing contents (freshness.ts), not by trusting the
 * cursor the server stamped on the result. 96 bits: no accidental collision
 * among a run's few hundred thousand states.
 */
export function dataDigest(json: string): string {
  return createHash('sha1').update(json).digest('base64url').slice(0, 16);
}
