/**
 * Least exposure on the production server: the inspector is offered to and
 * served for admins only; the metrics are closed to anonymous callers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionCookieFor } from '../helpers/app';
import { startProductionServer, type ProductionServer } from '../helpers/prodServer';

describe('inspector and metrics exposure (production server)', () => {
  let server: ProductionServer;
  beforeAll(async () => {
    server = await startProductionServer({ METRICS_TOKEN: '' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const page = async (path: string, email: 'alice@acme.test' | 'bob@acme.test') => {
    const res = await fetch(`${server.url}${path}`, { headers: { cookie: await sessionCookieFor(email) } });
    expect(res.status).toBe(200);
    return res.text();
  };

  it('offers the inspector in the navigation to an admin and not to staff', async () => {
    expect(await page('/dashboard', 'alice@acme.test')).toMatch(/href="\/inspector"/);
    const staff = await page('/dashboard', 'bob@acme.test');
    expect(staff).toMatch(/href="\/orders"/);
    expect(staff).not.toMatch(/href="\/inspector"/);
  });

  it('tells staff the inspector is for admins, and FORBIDDEN on its procedures', async () => {
    expect(await page('/inspector', 'bob@acme.test')).toContain('The live inspector is for admins only.');
    expect(await page('/inspector', 'alice@acme.test')).not.toContain('for admins only');
    const res = await fetch(`${server.url}/api/trpc/inspector.snapshot`, { headers: { cookie: await sessionCookieFor('bob@acme.test') } });
    expect(res.status).toBe(403);
  });

  it('answers /api/metrics 403 to anyone without a configured METRICS_TOKEN', async () => {
    const callers: Record<string, string>[] = [{}, { authorization: 'Bearer anything' }, { cookie: await sessionCookieFor('alice@acme.test') }];
    for (const headers of callers) {
      const res = await fetch(`${server.url}/api/metrics`, { headers });
      expect(res.status).toBe(403);
      expect(await res.text()).not.toContain('trpc_live_connections');
    }
  });
});
