import { NotificationsView } from './NotificationsView';

export const metadata = { title: 'Notifications · trpc-live' };

export default function NotificationsPage() {
  return <NotificationsView />;
}
