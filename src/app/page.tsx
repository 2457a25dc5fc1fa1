import { redirect } from 'next/navigation';
import { currentSession } from '../server/auth/currentSession';

export const dynamic = 'force-dynamic';

export default async function Home() {
  redirect((await currentSession()) ? '/dashboard' : '/sign-in');
}
