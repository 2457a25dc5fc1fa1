import { DashboardView } from './DashboardView';

export const metadata = { title: 'Dashboard · trpc-live' };

export default function DashboardPage() {
  return <DashboardView />;
}
