'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';

const LINKS = [
  ['/dashboard', 'Dashboard'],
  ['/orders', 'Orders'],
  ['/products', 'Products'],
  ['/imports', 'Import'],
  ['/notifications', 'Notifications'],
  ['/inspector', 'Inspector'],
] as const;

/** The app's navigation; the current section is highlighted. */
export function NavLinks() {
  const pathname = usePathname();
  return (
    <nav aria-label="Main">
      {LINKS.map(([href, label]) => {
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
