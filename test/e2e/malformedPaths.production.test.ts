// Paths with a malformed %-encoding get 400, never 500 (found by a black-box probe of `npm start`, 2026-12-08: a
// dynamic page such as /orders/%E0%A4%A was a 500 from Next, and a POST to /api/trpc/%E0%A4%A a 500 with a stack
// trace logged, before its body was read).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionCookieFor } from '../helpers/app';
import { startProductionServer, type ProductionServer } from '../helpers/prodServer';

describe('malformed %-encoding in the path (production server)', () => {
  let server: ProductionServer;
  beforeAll(async () => {
    server = await startProductionServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers a page path 400, signed in or not', async () => {
    const cookie = await sessionCookieFor('alice@acme.test');
    const callers: Record<string, string>[] = [{}, { cookie }];
    for (const headers of callers) {
      for (const path of ['/orders/%E0%A4%A', '/imports/%E0']) {
        const res = await fetch(`${server.url}${path}`, { headers, redirect: 'manual' });
        await res.arrayBuffer();
        expect(res.status, `${path} ${Object.keys(headers).join()}`).toBe(400);
      }
    }
    // A well-formed escape still reaches the page (a missing order: its not-found page, not a 400).
    const res = await fetch(`${server.url}/orders/ord%5Fnone`, { headers: { cookie } });
    await res.arrayBuffer();
    expect(res.status).not.toBe(400);
    expect(res.status).toBeLessThan(500);
  });

  it('answers a tRPC path 400 by GET and by POST, with the JSON error a tRPC client reads', async () => {
    const headers = { cookie: await sessionCookieFor('alice@acme.test'), origin: server.url, 'content-type': 'application/json' };
    for (const init of [{ method: 'GET', headers }, { method: 'POST', headers, body: '{}' }]) {
      const res = await fetch(`${server.url}/api/trpc/%E0%A4%A`, init);
      expect(res.status, init.method).toBe(400);
      expect(JSON.stringify(await res.json())).toMatch(/BAD_REQUEST/);
    }
  });
});
