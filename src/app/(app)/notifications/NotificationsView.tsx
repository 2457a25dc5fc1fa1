'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useTRPC } from '../../../trpc/react';
import { when } from '../format';

const ICONS: Record<string, string> = {
  'order.created': '+',
  'order.paid': '$',
  'import.done': '⇪',
  'import.failed': '!',
  'stock.low': '▼',
};

/**
 * The tenant's notifications. Each arrives twice on the instant lane: as an
 * event (the toast) and as an invalidation of this list, which refetches.
 */
export function NotificationsView() {
  const trpc = useTRPC();
  const list = useQuery(trpc.notifications.list.queryOptions());
  return (
    <div className="page narrow">
      <div className="page-head">
        <h1>Notifications</h1>
        <p className="muted">Orders created and paid, low stock, finished imports: pushed to every signed-in user of your tenant.</p>
      </div>
      <div className="card">
        {list.error && <p className="error">{list.error.message}</p>}
        {list.data?.length === 0 && <p className="muted">Nothing yet. Create an order to see one arrive.</p>}
        <ul className="feed" data-testid="notifications">
          {list.data?.map((n) => (
            <li key={n.id} className={n.kind.replace('.', '-')} data-testid={`notification-${n.id}`}>
              <span className="icon" aria-hidden>
                {ICONS[n.kind] ?? '•'}
              </span>
              <div className="feed-text">
                <div className="feed-title">{n.link ? <Link href={n.link} prefetch={false}>{n.title}</Link> : n.title}</div>
                {n.body && <div className="muted">{n.body}</div>}
              </div>
              <time className="muted" dateTime={n.createdAt.toISOString()}>
                {when(n.createdAt)}
              </time>
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}
