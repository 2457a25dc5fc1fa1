import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/database';
import { envValue } from '../env';
import type { Claims } from './tokens';
import { statements } from '../db/statements';

/** Lifetime of a stream ticket (LIVE_TICKET_TTL_MS). @default 30_000 */
export function ticketTtlMs(): number {
  return envValue('LIVE_TICKET_TTL_MS');
}

const hashOf = (ticket: string) => createHash('sha256').update(ticket).digest('hex');

/**
 * Issues a single-use ticket for a non-browser client's live stream
 * (EventSource cannot send headers). Only the SHA-256 of the ticket is
 * stored, so a database leak does not leak usable tickets.
 */
export function issueTicket(db: Db, claims: Claims, now = Date.now()): { ticket: string; expiresAt: number } {
  const ticket = randomBytes(32).toString('base64url');
  const expiresAt = now + ticketTtlMs();
  statements(db).prepare('INSERT INTO stream_tickets (hash, claims, expires_at) VALUES (?, ?, ?)').run(
    hashOf(ticket),
    JSON.stringify(claims),
    expiresAt,
  );
  // Housekeeping: tickets are useless an hour after they expire.
  statements(db).prepare('DELETE FROM stream_tickets WHERE expires_at < ?').run(now - 3_600_000);
  return { ticket, expiresAt };
}

export type RedeemResult = { ok: true; claims: Claims } | { ok: false; reason: 'unknown' | 'spent' | 'expired' };

/**
 * Spends a ticket: succeeds once, atomically (one UPDATE … RETURNING), so two
 * concurrent uses of the same ticket can never both succeed.
 */
export function redeemTicket(db: Db, ticket: string, now = Date.now()): RedeemResult {
  if (typeof ticket !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(ticket)) return { ok: false, reason: 'unknown' };
  const hash = hashOf(ticket);
  const row = statements(db)
    .prepare('UPDATE stream_tickets SET spent_at = ? WHERE hash = ? AND spent_at IS NULL AND expires_at > ? RETURNING claims')
    .get(now, hash, now) as { claims: string } | undefined;
  if (row) return { ok: true, claims: JSON.parse(row.claims) as Claims };
  const known = statements(db).prepare('SELECT spent_at, expires_at FROM stream_tickets WHERE hash = ?').get(hash) as
    | { spent_at: number | null; expires_at: number }
    | undefined;
  if (!known) return { ok: false, reason: 'unknown' };
  return { ok: false, reason: known.spent_at !== null ? 'spent' : 'expired' };
}
