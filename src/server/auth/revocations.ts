import { randomBytes } from 'node:crypto';
import { getDb, type Db } from '../db/database';
import { statements } from '../db/statements';
import { perDatabase } from '../db/perDatabase';

/**
 * Longest a revocation written by another instance (or another module
 * instance sharing the database) stays unseen here, in ms: the revoked set is
 * refreshed from SQLite at most this often, by one query on the primary key
 * (~10 µs when nothing changed), never once per request. A sign-out on this
 * instance is applied at once.
 */
export const REVOCATION_REFRESH_MS = 250;
/** Rows of sessions and revocations are deleted this long after the session expired. */
const HOUSEKEEPING_GRACE_MS = 3_600_000;

/** A revoked session, as the stream sweep needs it. */
export interface Revocation {
  readonly sessionId: string;
  readonly tenantId: string;
  /** When the session's token expires anyway (ms since the epoch). */
  readonly expiresAt: number;
}

/**
 * The sign-in sessions of one database: started at sign-in (the token's
 * `sid`), revoked at sign-out. Verification asks {@link isRevoked}, which
 * reads an in-memory set kept in step with the `session_revocations` table
 * (rows read incrementally by their AUTOINCREMENT `seq`, which SQLite's
 * single writer hands out in commit order, so no row is skipped).
 */
export class SessionRevocations {
  private readonly revoked = new Map<string, Revocation>();
  private readonly listeners = new Set<(revocations: readonly Revocation[]) => void>();
  private lastSeq = 0;
  private syncedAt = -Infinity;

  constructor(private readonly db: Db) {}

  /** False once its database is closed (a test's app torn down, a process shutting down): nothing more to read. */
  get open(): boolean {
    return this.db.open;
  }

  /** Records a new session (sign-in) and returns its id, 128 random bits. */
  begin(session: { userId: string; tenantId: string }, expiresAt: number, now = Date.now()): string {
    const id = randomBytes(16).toString('base64url');
    const sql = statements(this.db);
    sql.prepare('INSERT INTO sessions (id, tenant_id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)').run(
      id,
      session.tenantId,
      session.userId,
      now,
      expiresAt,
    );
    // Housekeeping: a session's rows are useless once its token has expired.
    sql.prepare('DELETE FROM sessions WHERE expires_at < ?').run(now - HOUSEKEEPING_GRACE_MS);
    sql.prepare('DELETE FROM session_revocations WHERE expires_at < ?').run(now - HOUSEKEEPING_GRACE_MS);
    return id;
  }

  /**
   * Revokes a session (sign-out): every token, ticket and stream credential
   * carrying its id is refused from now on, here at once and on other
   * instances within {@link REVOCATION_REFRESH_MS}. Idempotent.
   * @returns whether the session existed and was not yet revoked
   */
  revoke(sessionId: string, now = Date.now()): boolean {
    const sql = statements(this.db);
    const revoked = this.db.transaction(() => {
      const row = sql
        .prepare('UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING tenant_id, expires_at')
        .get(now, sessionId) as { tenant_id: string; expires_at: number } | undefined;
      if (!row) return false;
      sql.prepare('INSERT INTO session_revocations (session_id, tenant_id, expires_at) VALUES (?, ?, ?)').run(
        sessionId,
        row.tenant_id,
        row.expires_at,
      );
      return true;
    })();
    this.refresh(now, true);
    return revoked;
  }

  /** Whether the session was revoked (at most {@link REVOCATION_REFRESH_MS} stale for other instances' sign-outs). */
  isRevoked(sessionId: string, now = Date.now()): boolean {
    this.refresh(now);
    return this.revoked.has(sessionId);
  }

  /** Revocations not yet expired, oldest first. */
  active(): IterableIterator<Revocation> {
    return this.revoked.values();
  }

  /** Calls `listener` with every batch of newly seen revocations (local or from other instances). */
  onRevoked(listener: (revocations: readonly Revocation[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Reads revocations newer than the last one seen, unless the set was read
   * less than {@link REVOCATION_REFRESH_MS} ago (`force`: read anyway).
   */
  refresh(now = Date.now(), force = false): void {
    if (!force && now - this.syncedAt < REVOCATION_REFRESH_MS) return;
    this.syncedAt = now;
    const rows = statements(this.db)
      .prepare('SELECT seq, session_id, tenant_id, expires_at FROM session_revocations WHERE seq > ? ORDER BY seq')
      .all(this.lastSeq) as { seq: number; session_id: string; tenant_id: string; expires_at: number }[];
    const fresh: Revocation[] = [];
    for (const row of rows) {
      this.lastSeq = row.seq;
      if (row.expires_at <= now) continue;
      const revocation = { sessionId: row.session_id, tenantId: row.tenant_id, expiresAt: row.expires_at };
      this.revoked.set(revocation.sessionId, revocation);
      fresh.push(revocation);
    }
    // Expired sessions are refused by their token's `exp` anyway.
    for (const [id, revocation] of this.revoked) if (revocation.expiresAt <= now) this.revoked.delete(id);
    if (fresh.length) for (const listener of this.listeners) listener(fresh);
  }
}

/**
 * The {@link SessionRevocations} of a database, one per process (on
 * `globalThis`, so Next's route bundles and the Node entry share one set).
 */
export function sessionRevocations(db: Db): SessionRevocations {
  return perDatabase('sessionRevocations', db, (d) => new SessionRevocations(d));
}

/**
 * Whether verified claims belong to a revoked session (`false` for tokens
 * without a session id: an identity provider's, which end when they expire).
 */
export function isSessionRevoked(claims: { readonly sessionId?: string }, db: Db = getDb()): boolean {
  return claims.sessionId !== undefined && sessionRevocations(db).isRevoked(claims.sessionId);
}
