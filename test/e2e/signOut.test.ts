import { EventSource } from 'eventsource';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { credentialEventSource } from 'trpc-live/client';
import { SessionRevocations } from '../../src/server/auth/revocations';
import { sessionStreams } from '../../src/server/auth/sessionStreams';
import { openDb } from '../../src/server/db/database';
import { createNodeClient } from '../helpers/client';
import { signInOverHttp } from '../helpers/http';
import { useServedApp } from '../helpers/servedApp';
import { waitFor } from '../helpers/wait';

type Client = ReturnType<typeof createNodeClient>;

/** Opens the stream; resolves once `hello` arrived, with a promise of how it ended (error code) and when. */
function openStream(client: Client) {
  return new Promise<{ ended: Promise<{ code: string; at: number }>; stop(): void }>((resolve, reject) => {
    let end: (value: { code: string; at: number }) => void = () => undefined;
    // Bounded: a stream that does not end fails the test in 5 s rather than at the test timeout.
    const ended = new Promise<{ code: string; at: number }>((r, fail) => {
      end = r;
      setTimeout(() => fail(new Error('the stream did not end within 5 s')), 5_000).unref();
    });
    // A stream the test stops itself never ends: only an awaited `ended` may fail the test.
    ended.catch(() => undefined);
    const subscription = client.live.stream.subscribe(undefined, {
      onData(value) {
        const tracked = value as unknown as { id?: string; data?: { kind?: string } };
        if ((tracked.id ? tracked.data : (value as { kind?: string }))?.kind === 'hello') {
          resolve({ ended, stop: () => subscription.unsubscribe() });
        }
      },
      onError(error) {
        const code = (error as { data?: { code?: string } }).data?.code ?? error.message;
        end({ code, at: performance.now() });
        reject(new Error(`stream refused: ${code}`));
      },
    });
  });
}

describe.each(['stock', 'fast'] as const)('sign-out ends the session on the server (%s transport)', (transport) => {
  const served = useServedApp({ transport });

  /** Signs in over HTTP as the browser does; returns the session token. */
  async function signIn(email = 'alice@acme.test'): Promise<string> {
    const cookie = await signInOverHttp(served.url, email);
    return decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
  }
  const signOut = async (token: string) => {
    const res = await fetch(`${served.url}/api/trpc/auth.signOut`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: served.url, cookie: `live_session=${token}` },
    });
    expect(res.status).toBe(200);
    return performance.now();
  };
  const ordersStatus = async (headers: Record<string, string>) => {
    const res = await fetch(`${served.url}/api/trpc/orders.list`, { headers });
    return `${res.status}:${/"code":"([A-Z_]+)"/.exec(await res.text())?.[1] ?? 'data'}`;
  };

  it('refuses the signed-out token as cookie and as bearer, and only that session', async () => {
    const token = await signIn();
    const other = await signIn();
    expect(await ordersStatus({ cookie: `live_session=${token}` })).toBe('200:data');
    await signOut(token);
    expect(await ordersStatus({ cookie: `live_session=${token}` })).toBe('401:UNAUTHORIZED');
    expect(await ordersStatus({ authorization: `Bearer ${token}` })).toBe('401:UNAUTHORIZED');
    // The same user's other session is untouched.
    expect(await ordersStatus({ cookie: `live_session=${other}` })).toBe('200:data');
  });

  it("ends the session's open stream with UNAUTHORIZED within 1 s, and no other stream", async () => {
    const token = await signIn();
    const bystanderToken = await signIn();
    const stream = await openStream(createNodeClient(served.url, `live_session=${token}`));
    const bystander = await openStream(createNodeClient(served.url, `live_session=${bystanderToken}`));
    const signedOutAt = await signOut(token);
    const { code, at } = await stream.ended;
    expect(code).toBe('UNAUTHORIZED');
    expect(at - signedOutAt).toBeLessThan(1_000);
    expect(served.app.hub.connectionCount).toBe(1);
    bystander.stop();
  });

  it('ends a ticket-and-credential stream of the session and refuses its credential after', async () => {
    const token = await signIn();
    const bearer = createNodeClient(served.url, null, { authorization: `Bearer ${token}` });
    const { ticket } = await bearer.auth.streamTicket.mutate();
    const { ticket: unused } = await bearer.auth.streamTicket.mutate();
    const stream = await openStream(
      createNodeClient(served.url, null, { connectionParams: () => ({ ticket }), EventSource: credentialEventSource(EventSource) }),
    );
    const signedOutAt = await signOut(token);
    const { code, at } = await stream.ended;
    expect(code).toBe('UNAUTHORIZED');
    expect(at - signedOutAt).toBeLessThan(1_000);
    // No new ticket for the session, and one minted before the sign-out no longer opens a stream.
    const { ticket: late } = await bearer.auth.streamTicket.mutate().catch(() => ({ ticket: '' }));
    expect(late).toBe('');
    await expect(openStream(createNodeClient(served.url, null, { connectionParams: () => ({ ticket: unused }) }))).rejects.toThrow(
      'stream refused: UNAUTHORIZED',
    );
  });

  it('ends the stream within 1 s when another instance sharing the database signs the session out', async () => {
    const token = await signIn();
    const stream = await openStream(createNodeClient(served.url, `live_session=${token}`));
    // Another instance: its own connection to the same SQLite file, its own revocation set.
    const otherDb = openDb(path.join(served.app.dir, 'app.db'));
    try {
      const sessionId = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sid as string;
      expect(sessionId).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(new SessionRevocations(otherDb).revoke(sessionId)).toBe(true);
      const revokedAt = performance.now();
      const { code, at } = await stream.ended;
      expect(code).toBe('UNAUTHORIZED');
      expect(at - revokedAt).toBeLessThan(1_000);
      expect(await ordersStatus({ cookie: `live_session=${token}` })).toBe('401:UNAUTHORIZED');
    } finally {
      otherDb.close();
    }
  });

  it('runs one sweep timer while streams are open and stops it when none is left', async () => {
    const sweep = sessionStreams(served.app.db);
    const token = await signIn();
    const stream = await openStream(createNodeClient(served.url, `live_session=${token}`));
    expect(sweep.running).toBe(true);
    stream.stop();
    await waitFor(() => served.app.hub.connectionCount === 0 && !sweep.running, 'the sweep to stop', 2_000);
  });
});
