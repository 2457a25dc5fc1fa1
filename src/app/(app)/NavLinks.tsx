'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';

/** Sections: path, label, and whether only admins are offered it. */
const LINKS = [
  ['/dashboard', 'Dashboard', false],
  ['/orders', 'Orders', false],
  ['/products', 'Products', false],
  ['/imports', 'Import', false],
  ['/notifications', 'Notifications', false],
  ['/inspector', 'Inspector', true],
] as const;

/** The app's navigation for a user of `role` (admin-only sections hidden from staff); the current section is highlighted. */
export function NavLinks({ role }: { role: 'admin' | 'staff' }) {
  const pathname = usePathname();
  return (
    <nav aria-label="Main">
      {LINKS.filter(([, , adminOnly]) => !adminOnly || role === 'admin').map(([href, label]) => {
        const active = pathname === href || pathname.startsWith(`${href}/`);
        return (
          // Prefetch off: a live page makes no request of its own until the user acts.
          <Link key={href} href={href} prefetch={false} className={active ? 'active' : undefined} aria-current={active ? 'page' : undefined}>
            {label}
          </Link>
        );
      })}
    </nav>
  );
}
