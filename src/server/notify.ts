import type { Hub } from 'trpc-live/core';
import type { NotificationEvent } from '../trpc/resources';
import type { Db } from './db/database';
import { insertNotification, type AppNotification, type NewNotification } from './data/notifications';
import { live } from './trpc/init';

/** Publishes notifications outside procedures (a mutation's side effect, the import worker, the script). */
const notifications = live.publisher('notify', { invalidates: ['notifications'], publishes: ['notifications'] });

/**
 * Stores a notification for a tenant, then pushes it: an event on the
 * instant lane (toasts, carrying the text) and an invalidation of the
 * `notifications` list. A failed publish is logged, not thrown: the
 * notification is stored and the list shows it on the next refetch.
 */
export async function notify(db: Db, hub: Hub, tenantId: string, input: NewNotification): Promise<AppNotification> {
  const notification = insertNotification(db, tenantId, input);
  const data: NotificationEvent = {
    id: notification.id,
    kind: notification.kind,
    title: notification.title,
    body: notification.body,
    link: notification.link,
    createdAt: notification.createdAt.getTime(),
  };
  const publisher = notifications.withHub(hub);
  try {
    await publisher.event(tenantId, 'notifications', data);
    await publisher.invalidate(tenantId, 'notifications', notification.id, { action: 'created' });
  } catch (error) {
    console.error('[notify] publishing a notification failed:', error);
  }
  return notification;
}
