/**
 * One client test suite for every live transport: an unchanged
 * `httpSubscriptionLink` (superjson, eventsource@4) against the stock tRPC
 * route and against the fast transport. Both must behave identically.
 */
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveMessage } from 'trpc-live/core';
import { setupApp, sessionCookieFor, type TestApp } from '../helpers/app';
import { createNodeClient } from '../helpers/client';
import { serveTrpc } from '../helpers/http';
import { makeToken } from '../helpers/tokens';
import { waitFor } from '../helpers/wait';

type Received = { message: LiveMessage; id?: string };
type Client = ReturnType<typeof createNodeClient>;

/** Subscribes to the live stream and records what arrives; resolves once the first hello arrived. */
export async function listen(client: Client, input?: Parameters<Client['live']['stream']['subscribe']>[0]) {
  const received: Received[] = [];
  const waiters: Array<() => void> = [];
  let onHello!: () => void;
  const ready = new Promise<void>((resolve) => (onHello = resolve));
  const subscription = client.live.stream.subscribe(input, {
    onData(value) {
      const tracked = value as unknown as { id?: string; data?: LiveMessage };
      const message = (tracked.id ? tracked.data : value) as LiveMessage;
      received.push({ message, ...(tracked.id ? { id: tracked.id } : {}) });
      if (message.kind === 'hello') onHello();
      for (const wake of waiters.splice(0)) wake();
    },
  });
  await ready;
  return {
    received,
    /** Data messages (control frames left out). */
    data: () => received.filter((r) => r.message.kind !== 'hello' && r.message.kind !== 'reconnect'),
    /** Resolves once `condition` holds, re-checked at every message; rejects after `ms`. */
    until: (condition: () => boolean, what: string, ms = 5000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
        const check = () => {
          if (condition()) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        check();
      }),
    stop: () => subscription.unsubscribe(),
  };
}

/** Subscribes and resolves with the first error the subscription reports. */
function firstError(client: Client, input?: Parameters<Client['live']['stream']['subscribe']>[0]) {
  return new Promise<{ message: string; data?: { code?: string; zodError?: unknown } }>((resolve) => {
    const subscription = client.live.stream.subscribe(input, {
      onError: (error) => {
        subscription.unsubscribe();
        resolve(error as never);
      },
    });
  });
}

const isInvalidation = (r: Received, resource: string, id: string) =>
  r.message.kind === 'invalidate' && r.message.resource === resource && r.message.id === id;

/** Runs the suite against one transport of the in-process app server. */
export function runLiveClientSuite(transport: 'stock' | 'fast'): void {
  describe(`live client suite (httpSubscriptionLink + superjson + eventsource@4) over the ${transport} transport`, () => {
    let app: TestApp;
    let server: Awaited<ReturnType<typeof serveTrpc>>;
    /** Every live stream request the server received, in order. */
    const streamRequests: IncomingMessage[] = [];

    beforeAll(async () => {
      app = await setupApp();
      server = await serveTrpc({ transport });
      server.server.on('request', (req: IncomingMessage) => {
        if (req.url?.startsWith('/api/trpc/live.stream')) streamRequests.push(req);
      });
    });
    afterAll(async () => {
      await server.close();
      await app.close();
    });

    it("delivers a mutation's invalidations to a subscriber of the same tenant, with cursors", async () => {
      const alice = createNodeClient(server.url, await sessionCookieFor('alice@acme.test'));
      const bob = await listen(createNodeClient(server.url, await sessionCookieFor('bob@acme.test')));
      expect(bob.received[0]!.message).toMatchObject({ kind: 'hello' });
      // A fresh stream's hello carries the cursor it starts from (a cut before the first signal resumes there).
      expect(bob.received[0]!.id).toMatch(/^[A-Za-z0-9_-]+:\d+$/);
      // The stream is served by the transport under test, not by a fallback.
      expect(server.live?.streams ?? null).toBe(transport === 'fast' ? 1 : null);

      const order = await alice.orders.create.mutate({ customer: 'Suite', items: [{ productId: 'prd_acme_1', quantity: 1 }] });
      await bob.until(() => bob.data().some((r) => isInvalidation(r, 'orders', order.id)), 'the orders invalidation');
      const hit = bob.data().find((r) => isInvalidation(r, 'orders', order.id))!;
      expect(hit.message).toMatchObject({ kind: 'invalidate', resource: 'orders', id: order.id, action: 'created' });
      expect(hit.id).toMatch(/^[A-Za-z0-9_-]+:\d+$/);
      bob.stop();
    });

    it("never delivers one tenant's signals to another tenant", async () => {
      const carol = await listen(createNodeClient(server.url, await sessionCookieFor('carol@globex.test')));
      const bob = await listen(createNodeClient(server.url, await sessionCookieFor('bob@acme.test')));
      await app.hub.invalidate('acme', { resource: 'orders', id: 'only-acme' });
      await app.hub.invalidate('globex', { resource: 'orders', id: 'only-globex' });
      await bob.until(() => bob.data().some((r) => isInvalidation(r, 'orders', 'only-acme')), 'the acme signal');
      await carol.until(() => carol.data().some((r) => isInvalidation(r, 'orders', 'only-globex')), 'the globex signal');
      // Each stream got its own tenant's signal; the other one, published first or second, never arrived.
      expect(bob.data().some((r) => isInvalidation(r, 'orders', 'only-globex'))).toBe(false);
      expect(carol.data().some((r) => isInvalidation(r, 'orders', 'only-acme'))).toBe(false);
      bob.stop();
      carol.stop();
    });

    it('resumes from its cursor after the server kills the connection, getting what was published meanwhile', async () => {
      await waitFor(() => app.hub.connectionCount === 0, 'earlier streams to leave');
      const bob = await listen(createNodeClient(server.url, await sessionCookieFor('bob@acme.test')));
      await app.hub.invalidate('acme', { resource: 'orders', id: 'before-kill' });
      await bob.until(() => bob.data().some((r) => isInvalidation(r, 'orders', 'before-kill')), 'the first signal');
      const cursor = bob.data().find((r) => isInvalidation(r, 'orders', 'before-kill'))!.id!;

      const requestsBefore = streamRequests.length;
      streamRequests.at(-1)!.socket.destroy();
      await waitFor(() => app.hub.connectionCount === 0, 'the killed stream to leave the hub');
      await app.hub.invalidate('acme', { resource: 'orders', id: 'while-away' });

      // eventsource@4 reconnects after its default 3 s delay.
      await bob.until(() => bob.data().some((r) => isInvalidation(r, 'orders', 'while-away')), 'the missed signal', 10_000);
      const reconnect = streamRequests[requestsBefore]!;
      expect(reconnect.headers['last-event-id']).toBe(cursor);
      expect(bob.received.filter((r) => r.message.kind === 'hello')).toHaveLength(2);
      expect(bob.data().filter((r) => isInvalidation(r, 'orders', 'before-kill'))).toHaveLength(1);
      expect(bob.data().filter((r) => isInvalidation(r, 'orders', 'while-away'))).toHaveLength(1);
      bob.stop();
    });

    it('ends the stream with UNAUTHORIZED when the session expires mid-stream, and frees the connection', async () => {
      await waitFor(() => app.hub.connectionCount === 0, 'earlier streams to leave');
      const client = createNodeClient(server.url, `live_session=${await makeToken({ expiresIn: 2 })}`);
      const kinds: string[] = [];
      const ended = new Promise<{ message: string; data?: { code?: string } }>((resolve) => {
        client.live.stream.subscribe(undefined, {
          onData: (value) => {
            const tracked = value as unknown as { id?: string; data?: { kind?: string } };
            kinds.push((tracked.id ? tracked.data?.kind : (value as { kind?: string }).kind) ?? 'unknown');
          },
          onError: (error) => resolve(error as never),
        });
      });
      const error = await ended;
      expect(error.data?.code).toBe('UNAUTHORIZED');
      expect(error.message).toBe('Session expired');
      expect(kinds).toContain('hello');
      await waitFor(() => app.hub.connectionCount === 0, 'the expired stream to leave the hub');
      if (transport === 'fast') expect(server.live!.streams).toBe(0);
    });

    it('refuses an unauthenticated stream with UNAUTHORIZED and registers nothing', async () => {
      await waitFor(() => app.hub.connectionCount === 0, 'earlier streams to leave');
      const error = await firstError(createNodeClient(server.url, null));
      expect(error.data?.code).toBe('UNAUTHORIZED');
      expect(error.message).toBe('Sign in first');
      expect(app.hub.connectionCount).toBe(0);
    });

    it('refuses malformed input with BAD_REQUEST naming the field, and registers nothing', async () => {
      await waitFor(() => app.hub.connectionCount === 0, 'earlier streams to leave');
      const client = createNodeClient(server.url, await sessionCookieFor('bob@acme.test'));
      // Longer than any cursor (a short malformed one gets a reset instead: replay.test.ts).
      const error = await firstError(client, { lastEventId: 'e'.repeat(400) });
      expect(error.data?.code).toBe('BAD_REQUEST');
      expect(error.data?.zodError).toEqual([expect.objectContaining({ path: ['lastEventId'] })]);
      expect(app.hub.connectionCount).toBe(0);
    });
  });
}
