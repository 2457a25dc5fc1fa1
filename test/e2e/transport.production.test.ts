/**
 * The production entry (`node dist/main.js`): one Node server for Next and
 * the fast transport. Next's route bundle and main.js are separate module
 * instances sharing the hub and the database through globalThis: a mutation
 * through the Next route must reach a stream served by the fast transport.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_IMPORT_BODY_BYTES } from '../../src/server/routers/imports';
import { sessionCookieFor } from '../helpers/app';
import { createNodeClient } from '../helpers/client';
import { startProductionServer, type ProductionServer } from '../helpers/prodServer';
import { listen } from './liveClientSuite';

/** Opens a raw stream and resolves with a reader of its body once `ready` arrived. */
function rawStream(url: string, cookie: string, ready: string) {
  return new Promise<{ text(): string; ended: Promise<void> }>((resolve, reject) => {
    const req = request(`${url}/api/trpc/live.stream`, { headers: { cookie, accept: 'text/event-stream' } }, (res) => {
      let body = '';
      let resolved = false;
      const ended = new Promise<void>((r) => res.on('end', r).on('close', r));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (!resolved && body.includes(ready)) {
          resolved = true;
          resolve({ text: () => body, ended });
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(['fast', 'stock'] as const)('production server with LIVE_TRANSPORT=%s', (mode) => {
  let server: ProductionServer;
  beforeAll(async () => {
    // TRPC_HTTP=next: mutations go through Next's route bundle, so this proves the hub is shared with main.js.
    server = await startProductionServer(mode === 'stock' ? { LIVE_TRANSPORT: 'stock', TRPC_HTTP: 'next' } : { TRPC_HTTP: 'next' });
  }, 600_000);
  afterAll(async () => {
    if (server?.child.exitCode === null) await server.stop('SIGKILL');
  });

  it('announces which transport serves the live stream', () => {
    expect(server.output()).toContain(`live transport: ${mode}`);
  });

  it("delivers a mutation made through Next's route to a live stream of the same tenant", async () => {
    const alice = createNodeClient(server.url, await sessionCookieFor('alice@acme.test'));
    const bob = await listen(createNodeClient(server.url, await sessionCookieFor('bob@acme.test')));
    const order = await alice.orders.create.mutate({ customer: 'Prod', items: [{ productId: 'prd_acme_1', quantity: 1 }] });
    await bob.until(
      () => bob.data().some((r) => r.message.kind === 'invalidate' && r.message.resource === 'orders' && r.message.id === order.id),
      'the orders invalidation',
    );
    const health = (await (await fetch(`${server.url}/api/health`)).json()) as { connections: number };
    expect(health.connections).toBe(1); // Next's health route sees the stream registered by main.js: one hub
    bob.stop();
  });

  it("bounds request bodies on Next's route too: a 1.5 MB import is accepted, a body over the import limit gets 413 naming it", async () => {
    const headers = { cookie: await sessionCookieFor('alice@acme.test'), origin: server.url, 'content-type': 'application/json' };
    const row = 'Ada Lovelace,ACM-TENT,1,paid,2024-01-01T00:00:00.000Z\n';
    const csv = `customer,sku,quantity,status,created_at\n${row.repeat(Math.ceil(1_500_000 / row.length))}`;
    const url = `${server.url}/api/trpc/imports.start`;
    const accepted = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ json: { fileName: 'big.csv', csv } }) });
    expect(accepted.status).toBe(200);
    const over = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ json: { fileName: 'huge.csv', csv: 'x'.repeat(MAX_IMPORT_BODY_BYTES) } }) });
    expect(over.status).toBe(413);
    expect(await over.text()).toContain(`larger than ${MAX_IMPORT_BODY_BYTES.toLocaleString('en')} bytes`);
  }, 60_000);

  it('ends open streams on SIGTERM the same way on both transports: the hint, its retry delay, then the end', async () => {
    const stream = await rawStream(server.url, await sessionCookieFor('bob@acme.test'), '"hello"');
    const exited = server.stop('SIGTERM');
    await stream.ended;
    // (After a tracked frame tRPC clears the hint's event id and restores it with a `restore-id` event.)
    expect(stream.text()).toMatch(
      /"kind":"reconnect","afterMs":(\d+),"reason":"drain"\}\}\n(id: \n\n\nevent: restore-id\ndata: \nid: [^\n]+\n)?\n\nretry: \1\n\n$/,
    );
    expect(stream.text()).not.toContain('event: return');
    expect(stream.text()).not.toContain('serialized-error');
    expect(await exited).toBe(0);
  });
});
