import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCredential } from '../../src/server/auth/credential';
import { verifySession } from '../../src/server/auth/session';
import { issueTicket } from '../../src/server/auth/tickets';
import { appRouter } from '../../src/server/routers/_app';
import { setupApp, type TestApp } from '../helpers/app';
import { serveTrpc } from '../helpers/http';
import { makeToken } from '../helpers/tokens';

type ProcedureType = 'query' | 'mutation' | 'subscription';

/** Every procedure of the app router, by path (the record tRPC dispatches from, so none is missed). */
const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: ProcedureType } }>).map(
  ([path, procedure]) => ({ path, type: procedure._def.type }),
);

const STREAM = 'live.stream';

/**
 * Calls one procedure over real HTTP with no input, the way any client can:
 * connection params travel in the query string on every kind of call. The
 * outcome is `<status>:<tRPC error code>` or `<status>:data` (for a
 * subscription, its first event).
 */
async function call(base: string, path: string, type: ProcedureType, connectionParams: Record<string, string> | null) {
  const search = connectionParams ? `?connectionParams=${encodeURIComponent(JSON.stringify(connectionParams))}` : '';
  const url = `${base}/api/trpc/${path}${search}`;
  if (type !== 'subscription') {
    const res = await fetch(url, type === 'mutation' ? { method: 'POST', headers: { 'content-type': 'application/json' } } : {});
    const code = /"code":"([A-Z_]+)"/.exec(await res.text())?.[1];
    return `${res.status}:${code ?? 'data'}`;
  }
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
  const reader = res.body!.getReader();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
      // The first event after `connected`: an error, or data.
      const error = /event: serialized-error\ndata: .*?"code":"([A-Z_]+)"/.exec(text);
      if (error) return `${res.status}:${error[1]}`;
      if (/(^|\n)data: \{/.test(text.replace(/event: connected\ndata: [^\n]*\n/, ''))) return `${res.status}:data`;
    }
    return `${res.status}:ended`;
  } finally {
    abort.abort();
  }
}

describe.each(['stock', 'fast'] as const)('stream tickets and credentials open live.stream only (%s transport)', (transport) => {
  let app: TestApp;
  let server: Awaited<ReturnType<typeof serveTrpc>>;
  let claims: NonNullable<Awaited<ReturnType<typeof verifySession>>>;

  beforeAll(async () => {
    app = await setupApp();
    server = await serveTrpc({ transport });
    claims = (await verifySession(await makeToken()))!;
  });
  afterAll(async () => {
    await server.close();
    await app.close();
  });

  it('walks a router that has every kind of procedure', () => {
    // The oracle below is only as good as the walk: make sure it covers subscriptions other than the stream.
    expect(procedures.map((p) => p.path)).toEqual(expect.arrayContaining([STREAM, 'inspector.watch', 'orders.list', 'auth.streamTicket']));
    expect(procedures.length).toBeGreaterThan(15);
  });

  it('gives a stream credential nothing beyond an anonymous call on every procedure but live.stream', async () => {
    const credential = await issueCredential(claims);
    const seen: Record<string, { anonymous: string; credential: string }> = {};
    for (const { path, type } of procedures) {
      seen[path] = { anonymous: await call(server.url, path, type, null), credential: await call(server.url, path, type, { credential }) };
    }
    for (const { path } of procedures) {
      if (path === STREAM) continue;
      expect({ path, outcome: seen[path]!.credential }).toEqual({ path, outcome: seen[path]!.anonymous });
    }
    expect(seen[STREAM]).toEqual({ anonymous: '200:UNAUTHORIZED', credential: '200:data' });
    // Every procedure that needs a session (all but auth's public four) refuses the credential outright.
    const refused = procedures.filter((p) => seen[p.path]!.credential.endsWith(':UNAUTHORIZED')).map((p) => p.path);
    expect(refused).toEqual(expect.arrayContaining(['inspector.watch', 'inspector.snapshot', 'orders.list', 'orders.create', 'live.pause']));
    expect(refused.length).toBeGreaterThanOrEqual(procedures.length - 4);
  });

  it('refuses a ticket on every procedure but live.stream, without spending it', async () => {
    for (const { path, type } of procedures) {
      if (path === STREAM) continue;
      const { ticket } = issueTicket(app.db, claims);
      const outcome = await call(server.url, path, type, { ticket });
      expect({ path, outcome }).toEqual({ path, outcome: await call(server.url, path, type, null) });
      // The refused call did not spend it: the stream still accepts it, once.
      expect({ path, stream: await call(server.url, STREAM, 'subscription', { ticket }) }).toEqual({ path, stream: '200:data' });
    }
    const { ticket } = issueTicket(app.db, claims);
    expect(await call(server.url, STREAM, 'subscription', { ticket })).toBe('200:data');
    expect(await call(server.url, STREAM, 'subscription', { ticket })).toBe('200:UNAUTHORIZED');
  });
});
