import { ImportsView } from './ImportsView';

export const metadata = { title: 'Import · trpc-live' };

export default function ImportsPage() {
  return <ImportsView />;
}
