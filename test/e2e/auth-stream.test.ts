import { randomBytes } from 'node:crypto';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialEventSource } from 'trpc-live/client';
import { resetAuthConfig } from '../../src/server/auth/config';
import { issueTicket } from '../../src/server/auth/tickets';
import { createContext } from '../../src/server/context';
import { setupApp, type TestApp } from '../helpers/app';
import { createNodeClient } from '../helpers/client';
import { serveTrpc } from '../helpers/http';
import { makeToken, rsaIdentityProvider, tamperTenant, unsecuredToken } from '../helpers/tokens';

type Client = ReturnType<typeof createNodeClient>;

/** Opens the stream; resolves with 'hello' or the error code it was refused with. */
function openStream(client: Client): Promise<{ outcome: string; stop: () => void }> {
  return new Promise((resolve) => {
    const subscription = client.live.stream.subscribe(undefined, {
      onData(value) {
        const tracked = value as unknown as { id?: string; data?: { kind?: string } };
        const message = (tracked.id ? tracked.data : (value as { kind?: string }))?.kind;
        if (message === 'hello') resolve({ outcome: 'hello', stop: () => subscription.unsubscribe() });
      },
      onError(error) {
        resolve({ outcome: (error as { data?: { code?: string } }).data?.code ?? error.message, stop: () => undefined });
      },
    });
  });
}

describe.each(['stock', 'fast'] as const)('live stream authentication: the attack table (%s transport)', (transport) => {
  let app: TestApp;
  let server: Awaited<ReturnType<typeof serveTrpc>>;
  let idp: Awaited<ReturnType<typeof rsaIdentityProvider>>;
  let opened = 0;

  beforeAll(async () => {
    process.env.AUTH_SECRET = randomBytes(32).toString('base64url');
    idp = await rsaIdentityProvider();
    process.env.AUTH_PUBLIC_KEY = idp.pem;
    process.env.AUTH_ALGORITHM = 'RS256';
    resetAuthConfig();
    app = await setupApp({ metrics: { connectionOpened: () => void opened++ } });
    server = await serveTrpc({ transport });
  });
  afterAll(async () => {
    await server.close();
    await app.close();
    delete process.env.AUTH_PUBLIC_KEY;
    delete process.env.AUTH_ALGORITHM;
    resetAuthConfig();
  });

  const withCookie = (token: string) => createNodeClient(server.url, `live_session=${token}`);
  const withParams = (params: Record<string, string>) => createNodeClient(server.url, null, { connectionParams: () => params });

  /** Asserts the stream is refused with UNAUTHORIZED and never reached the hub. */
  async function expectRefused(client: Client) {
    const before = opened;
    const { outcome } = await openStream(client);
    expect(outcome).toBe('UNAUTHORIZED');
    expect(opened).toBe(before);
    expect(app.hub.connectionCount).toBe(0);
  }

  it('accepts a valid session cookie (control case)', async () => {
    const { outcome, stop } = await openStream(withCookie(await makeToken()));
    expect(outcome).toBe('hello');
    stop();
  });

  it('accepts an RS256 token from the configured identity provider (control case)', async () => {
    const { outcome, stop } = await openStream(withCookie(await makeToken({ alg: 'RS256', key: idp.privateKey })));
    expect(outcome).toBe('hello');
    stop();
  });

  it('refuses an expired token', async () => {
    await expectRefused(withCookie(await makeToken({ expiresIn: -60 })));
  });

  it('refuses a token that is not yet valid (nbf in the future)', async () => {
    await expectRefused(withCookie(await makeToken({ notBeforeIn: 3600 })));
  });

  it('refuses a token with a wrong signature', async () => {
    await expectRefused(withCookie(await makeToken({ secret: randomBytes(32).toString('base64url') })));
  });

  it('refuses alg: none', async () => {
    await expectRefused(withCookie(unsecuredToken()));
  });

  it('refuses HS/RS algorithm confusion (HS256 signed with the public key as secret)', async () => {
    await expectRefused(withCookie(await makeToken({ alg: 'HS256', key: new TextEncoder().encode(idp.pem) })));
  });

  it('refuses an ES256 token when only RS256 is configured', async () => {
    const { privateKey } = await (await import('jose')).generateKeyPair('ES256');
    await expectRefused(withCookie(await makeToken({ alg: 'ES256', key: privateKey })));
  });

  it('refuses a wrong issuer', async () => {
    await expectRefused(withCookie(await makeToken({ issuer: 'evil' })));
  });

  it('refuses a wrong audience', async () => {
    await expectRefused(withCookie(await makeToken({ audience: 'trpc-live:stream-not' })));
  });

  it('refuses a tampered tenant claim', async () => {
    await expectRefused(withCookie(tamperTenant(await makeToken(), 'globex')));
  });

  it('refuses a reused ticket', async () => {
    const bearer = createNodeClient(server.url, null, { authorization: `Bearer ${await makeToken()}` });
    const { ticket } = await bearer.auth.streamTicket.mutate();
    const first = await openStream(withParams({ ticket }));
    expect(first.outcome).toBe('hello');
    first.stop();
    await expectRefused(withParams({ ticket }));
  });

  it('refuses an expired ticket', async () => {
    const claims = { userId: 'usr_alice', tenantId: 'acme', role: 'admin' as const, name: 'A', email: 'a@x', exp: Date.now() / 1000 + 3600 };
    const { ticket } = issueTicket(app.db, claims, Date.now() - 60_000);
    await expectRefused(withParams({ ticket }));
  });

  it('refuses a stream with no credential at all', async () => {
    await expectRefused(createNodeClient(server.url, null));
  });

  it('refuses a stream credential used for anything but the stream, and a ticket minting another', async () => {
    const bearer = createNodeClient(server.url, null, { authorization: `Bearer ${await makeToken()}` });
    const { ticket } = await bearer.auth.streamTicket.mutate();
    const resHeaders = new Headers();
    const ticketCtx = await createContext({ headers: new Headers(), resHeaders, connectionParams: { ticket } });
    expect(ticketCtx.authMethod).toBe('ticket');
    expect(ticketCtx.session).toBeNull();
    expect(await ticketCtx.streamSession()).toMatchObject({ tenantId: 'acme' });
    const credential = resHeaders.get('x-live-credential')!;
    expect(credential).toBeTruthy();
    const { appRouter } = await import('../../src/server/routers/_app');
    const viaTicket = appRouter.createCaller(ticketCtx);
    await expect(viaTicket.auth.streamTicket()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const credCtx = await createContext({ headers: new Headers(), connectionParams: { credential } });
    expect(credCtx.authMethod).toBe('credential');
    await expect(appRouter.createCaller(credCtx).orders.list()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    // A stream credential is not a session: as a cookie it is refused (wrong audience).
    await expectRefused(withCookie(credential));
  });

  it('ends the stream with UNAUTHORIZED when the session expires mid-stream', async () => {
    const client = withCookie(await makeToken({ expiresIn: 2 }));
    const events: string[] = [];
    const ended = new Promise<string>((resolve) => {
      client.live.stream.subscribe(undefined, {
        onData: (value) => {
          const tracked = value as unknown as { id?: string; data?: { kind?: string } };
          events.push((tracked.id ? tracked.data?.kind : (value as { kind?: string }).kind) ?? 'data');
        },
        onError: (error) => resolve((error as { data?: { code?: string } }).data?.code ?? error.message),
      });
    });
    expect(await ended).toBe('UNAUTHORIZED');
    expect(events).toContain('hello');
    expect(app.hub.connectionCount).toBe(0);
  });

  it('gives a stream the intersection of the topics it asks for and those its token allows', async () => {
    const limited = withCookie(await makeToken({ claims: { topics: ['orders'] } }));
    const refused = await new Promise<string>((resolve) => {
      limited.live.stream.subscribe({ topics: ['products'] }, { onError: (e) => resolve((e as { data?: { code?: string } }).data?.code ?? '') });
    });
    expect(refused).toBe('FORBIDDEN');
    const received: string[] = [];
    let onOrder: () => void = () => undefined;
    const gotOrder = new Promise<void>((resolve) => (onOrder = resolve));
    let onHello: () => void = () => undefined;
    const hello = new Promise<void>((resolve) => (onHello = resolve));
    const subscription = limited.live.stream.subscribe(undefined, {
      onData(value) {
        const tracked = value as unknown as { id?: string; data?: { kind: string; resource?: string } };
        const message = (tracked.id ? tracked.data : value) as { kind: string; resource?: string };
        if (message.kind === 'hello') onHello();
        if (message.kind === 'invalidate') {
          received.push(message.resource!);
          if (message.resource === 'orders') onOrder();
        }
      },
    });
    await hello;
    await app.hub.invalidate('acme', { resource: 'products', id: 'p' });
    await app.hub.invalidate('acme', { resource: 'orders', id: 'o' });
    await gotOrder;
    expect(received).toEqual(['orders']);
    subscription.unsubscribe();
  });

  it("keeps a ticket client's stream alive across a server-side reconnect by exchanging the ticket for a credential", async () => {
    const bearer = createNodeClient(server.url, null, { authorization: `Bearer ${await makeToken()}` });
    const { ticket } = await bearer.auth.streamTicket.mutate();
    const client = createNodeClient(server.url, null, {
      connectionParams: () => ({ ticket }),
      EventSource: credentialEventSource(EventSource),
    });
    const hellos: string[] = [];
    const invalidations: string[] = [];
    let notify: () => void = () => undefined;
    const subscription = client.live.stream.subscribe(undefined, {
      onData(value) {
        const tracked = value as unknown as { id?: string; data?: { kind: string; id?: string } };
        const message = (tracked.id ? tracked.data : value) as { kind: string; connectionId?: string; id?: string };
        if (message.kind === 'hello') hellos.push(message.connectionId!);
        if (message.kind === 'invalidate') invalidations.push(message.id!);
        notify();
      },
    });
    const until = (cond: () => boolean) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out')), 10_000);
        notify = () => cond() && (clearTimeout(timer), resolve());
        notify();
      });
    await until(() => hellos.length === 1);
    // The server ends the stream (as on rotation); EventSource reconnects on its own.
    app.hub.connection(hellos[0]!)!.close('rotate');
    await until(() => hellos.length === 2);
    await app.hub.invalidate('acme', { resource: 'orders', id: 'after-reconnect' });
    await until(() => invalidations.includes('after-reconnect'));
    subscription.unsubscribe();
  });
});
