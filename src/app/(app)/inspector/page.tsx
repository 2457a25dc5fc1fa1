import { InspectorView } from './InspectorView';

export const metadata = { title: 'Live inspector · trpc-live' };

export default function InspectorPage() {
  return <InspectorView />;
}
