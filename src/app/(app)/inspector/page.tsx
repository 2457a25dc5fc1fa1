import { currentSession } from '../../../server/auth/currentSession';
import { InspectorView } from './InspectorView';

export const metadata = { title: 'Live inspector · trpc-live' };

/** Admins only, like the inspector's procedures (which answer FORBIDDEN to staff). */
export default async function InspectorPage() {
  const session = await currentSession();
  if (session?.role !== 'admin') {
    return (
      <section>
        <h1>Live inspector</h1>
        <p className="muted" data-testid="inspector-forbidden">
          The live inspector is for admins only.
        </p>
      </section>
    );
  }
  return <InspectorView />;
}
