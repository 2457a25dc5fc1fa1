import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait';
import { applyHttpTimeouts, DEFAULT_KEEP_ALIVE_TIMEOUT_MS } from '../../src/server/httpTimeouts';

const servers: Array<ReturnType<typeof createServer>> = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

describe('applyHttpTimeouts (idle keep-alive connections of the production server)', () => {
  it('keeps idle connections 65 s by default, longer than a 60 s load balancer, with headers allowed longer still', () => {
    const server = createServer();
    applyHttpTimeouts(server, {});
    expect(DEFAULT_KEEP_ALIVE_TIMEOUT_MS).toBe(65_000);
    expect(server.keepAliveTimeout).toBe(65_000);
    expect(server.headersTimeout).toBeGreaterThan(server.keepAliveTimeout);
    expect(server.requestTimeout).toBeGreaterThanOrEqual(server.headersTimeout);
  });

  it('takes HTTP_KEEP_ALIVE_TIMEOUT_MS and refuses a value that is not whole milliseconds, naming it', () => {
    const server = createServer();
    applyHttpTimeouts(server, { HTTP_KEEP_ALIVE_TIMEOUT_MS: '120000' });
    expect(server.keepAliveTimeout).toBe(120_000);
    expect(server.headersTimeout).toBe(121_000);
    expect(() => applyHttpTimeouts(createServer(), { HTTP_KEEP_ALIVE_TIMEOUT_MS: '5s' })).toThrow(
      'HTTP_KEEP_ALIVE_TIMEOUT_MS must be a whole number of milliseconds, got "5s"',
    );
  });

  it('closes an idle connection after the configured time, and serves requests on it until then', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    servers.push(server);
    applyHttpTimeouts(server, { HTTP_KEEP_ALIVE_TIMEOUT_MS: '300' });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    // A raw connection, so only the server decides when it closes (an HTTP agent has timeouts of its own).
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
    const responses = () => received.split('HTTP/1.1 200 OK').length - 1;
    const get = async (n: number) => {
      socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
      await waitFor(() => responses() === n && received.endsWith('ok'), `response ${n}`);
    };
    await get(1);
    await get(2); // the same connection, reused
    const idleSince = Date.now();
    const closedAt = await closed;
    // Not at once, and well before Node's own 5 s default (Node adds up to ~1 s of its own to the setting).
    expect(closedAt - idleSince).toBeGreaterThanOrEqual(250);
    expect(closedAt - idleSince).toBeLessThan(4_500);
    expect(responses()).toBe(2);
  });
});
