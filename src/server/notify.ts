import type { Hub } from 'trpc-live/core';
import type { Db } from './db/connection';
import { insertNotification, type AppNotification, type NewNotification } from './data/notifications';

/** Topic of notification events on the live stream (instant lane). */
export const NOTIFICATIONS_TOPIC = 'notifications';

/** What a notification event carries (JSON; `createdAt` in ms since the epoch). */
export interface NotificationEventData {
  [key: string]: string | number | null;
  id: string;
  kind: string;
  title: string;
  body: string;
  link: string | null;
  createdAt: number;
}

/**
 * Stores a notification for a tenant, then pushes it: an event on the
 * instant lane (toasts, carrying the text) and an invalidation of the
 * `notifications` list. A failed publish is logged, not thrown: the
 * notification is stored and the list shows it on the next refetch.
 */
export async function notify(db: Db, hub: Hub, tenantId: string, input: NewNotification): Promise<AppNotification> {
  const notification = insertNotification(db, tenantId, input);
  const data: NotificationEventData = {
    id: notification.id,
    kind: notification.kind,
    title: notification.title,
    body: notification.body,
    link: notification.link,
    createdAt: notification.createdAt.getTime(),
  };
  try {
    await hub.signal(tenantId, NOTIFICATIONS_TOPIC, data);
    await hub.invalidate(tenantId, { resource: 'notifications', id: notification.id, action: 'created' });
  } catch (error) {
    console.error('[notify] publishing a notification failed:', error);
  }
  return notification;
}
