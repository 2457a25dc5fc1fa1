// A client that goes away in the middle of its request body must not hold anything on the server. Found by a
// black-box probe of `npm start` (2026-12-08): 8 POSTs cut after half their body left their user answered 429
// ("at most 8 per user may be in flight") on every later request, until a restart: tRPC's node adapter ends the
// body stream on `end` only, so the handler's body read never settled and the request's count was never released.
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nodeHandlerFromFetch } from 'trpc-live/node';
import { getRequestLimits } from '../../src/server/requestLimits';
import { setupApp, type TestApp } from '../helpers/app';
import { serveTrpc, signInOverHttp } from '../helpers/http';
import { waitFor } from '../helpers/wait';

/** Sends a POST whose headers promise 100 bytes, then half a JSON body, then closes the socket once `ready()`. */
async function cutUpload(url: string, path: string, headers: Record<string, string>, ready: () => boolean): Promise<void> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const head = Object.entries({ ...headers, host: `${hostname}:${port}`, 'content-type': 'application/json', 'content-length': '100' })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n{"json":`);
  await waitFor(ready, 'the server to start on the request');
  socket.destroy();
}

describe('a request body cut by the client (nodeHandlerFromFetch)', () => {
  let server: Server;
  let url: string;
  const settled: string[] = [];
  let started = 0;
  beforeAll(async () => {
    const handler = nodeHandlerFromFetch(async (request) => {
      started++;
      try {
        await request.json();
        settled.push('read');
      } catch {
        settled.push('failed');
      }
      return new Response('{}');
    });
    server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  afterEach(() => {
    settled.length = 0;
    started = 0;
  });

  it("settles the handler's body read (it fails) once the connection closes", async () => {
    await cutUpload(url, '/x', {}, () => started === 1);
    await waitFor(() => settled.length === 1, "the handler's body read to settle", 2000);
    expect(settled).toEqual(['failed']);
  });

  it('still reads a whole body sent in pieces', async () => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const body = '{"json":{"a":1}}';
    socket.write(`POST /x HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
    await waitFor(() => started === 1, 'the handler to start');
    socket.write(body.slice(5));
    await waitFor(() => settled.length === 1, 'the read');
    socket.destroy();
    expect(settled).toEqual(['read']);
  });
});

describe('the app: cut uploads do not count against their user', () => {
  let app: TestApp;
  let served: Awaited<ReturnType<typeof serveTrpc>>;
  beforeAll(async () => {
    app = await setupApp();
    served = await serveTrpc();
  });
  afterAll(async () => {
    await served?.close();
    await app?.close();
  });

  it('answers the user 200 after 8 mutations cut mid-body (the bound on requests in flight)', async () => {
    const cookie = await signInOverHttp(served.url, 'dave@globex.test');
    const dave = { tenantId: 'globex', userId: 'usr_dave' };
    const limits = getRequestLimits();
    for (let i = 0; i < 8; i++) {
      // Admitted (counted) before its body is read: cut once the count shows it.
      await cutUpload(served.url, '/api/trpc/products.adjustStock', { cookie, origin: served.url }, () => limits.inFlight(dave) === 1);
      await waitFor(() => limits.inFlight(dave) === 0, `cut request ${i + 1} to release its count`, 2000);
    }
    const res = await fetch(`${served.url}/api/trpc/products.list`, { headers: { cookie } });
    await res.arrayBuffer();
    expect(res.status).toBe(200);
  });
});
