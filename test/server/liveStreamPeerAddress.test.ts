/**
 * Issue 19 item 8 (capacity: a reconnect storm of 10,000 streams on one
 * instance): opening the live stream through the fast transport must not
 * ask its socket for the peer address. Only sign-in's per-address limit
 * reads `ctx.clientAddress`; `socket.remoteAddress` is a getpeername()
 * system call, ~18 µs of each reconnect's server CPU in the storm's profile.
 */
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sessionCookieFor } from '../helpers/app';
import { useServedApp } from '../helpers/servedApp';

type PeerSocket = net.Socket & { server?: unknown; _getpeername(): unknown };

/**
 * Counts peer-address lookups on server-side sockets (those a `net.Server`
 * accepted carry `server`): `remoteAddress` is a getter that calls Node's
 * `_getpeername()`, itself a plain method (the getter cannot be redefined).
 */
function countServerPeerReads(): { readonly reads: number } {
  const spy = vi.spyOn(net.Socket.prototype as PeerSocket, '_getpeername');
  return {
    get reads() {
      return spy.mock.contexts.filter((socket) => (socket as PeerSocket).server).length;
    },
  };
}

describe('the fast transport opening a live stream', () => {
  const served = useServedApp({ transport: 'fast' });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('does not read the socket peer address when it opens a stream', async () => {
    const cookie = await sessionCookieFor('bob@acme.test');
    const counter = countServerPeerReads();
    const controller = new AbortController();
    const res = await fetch(`${served.url}/api/trpc/live.stream`, { headers: { cookie }, signal: controller.signal });
    expect(res.status).toBe(200);
    // The hello (a data frame after `connected`) comes after the context, the procedure and the hub's connect.
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('hello')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(text).toContain('"hello"');
    expect(counter.reads).toBe(0);
  });

  it('still reads it for sign-in, whose per-address limit needs it', async () => {
    const counter = countServerPeerReads();
    const res = await fetch(`${served.url}/api/trpc/auth.signIn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: served.url },
      body: JSON.stringify({ json: { email: 'bob@acme.test', password: 'wrong password' } }),
    });
    await res.arrayBuffer();
    expect(counter.reads).toBeGreaterThan(0);
  });
});
