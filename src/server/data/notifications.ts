import type { Db } from '../db/database';
import { newId } from '../db/ids';
import { statements } from '../db/statements';

/** What a notification is about; the UI picks an icon and colour from it. */
export type NotificationKind = 'order.created' | 'order.paid' | 'import.done' | 'import.failed' | 'stock.low';

export interface AppNotification {
  id: string;
  kind: NotificationKind;
  title: string;
  body: string;
  /** App path to open, e.g. `/orders/ord_x`. */
  link: string | null;
  createdAt: Date;
}

export interface NewNotification {
  kind: NotificationKind;
  title: string;
  body?: string;
  link?: string | null;
}

interface NotificationRow {
  id: string;
  kind: NotificationKind;
  title: string;
  body: string;
  link: string | null;
  created_at: number;
}

const toNotification = (row: NotificationRow): AppNotification => ({
  id: row.id,
  kind: row.kind,
  title: row.title,
  body: row.body,
  link: row.link,
  createdAt: new Date(row.created_at),
});

/** Stores a notification for every user of a tenant. */
export function insertNotification(db: Db, tenantId: string, input: NewNotification, now = Date.now()): AppNotification {
  const row: NotificationRow = {
    id: newId('ntf'),
    kind: input.kind,
    title: input.title,
    body: input.body ?? '',
    link: input.link ?? null,
    created_at: now,
  };
  statements(db).prepare(
    'INSERT INTO notifications (id, tenant_id, kind, title, body, link, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ).run(row.id, tenantId, row.kind, row.title, row.body, row.link, row.created_at);
  return toNotification(row);
}

/** Newest notifications of a tenant. */
export function listNotifications(db: Db, tenantId: string, limit = 50): AppNotification[] {
  const rows = statements(db)
    .prepare(
      `SELECT id, kind, title, body, link, created_at FROM notifications
       WHERE tenant_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?`,
    )
    .all(tenantId, limit) as NotificationRow[];
  return rows.map(toNotification);
}
