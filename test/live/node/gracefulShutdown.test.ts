import { createServer, request, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createHub } from '../../../src/live/core';
import { createGracefulShutdown } from '../../../src/live/node';
import { RecordingSink } from '../../helpers/sink';

async function listen(handler: RequestListener) {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('createGracefulShutdown', () => {
  it('cuts a request that outlives the timeout, and is idempotent', async () => {
    const { server, url } = await listen(() => {
      // Never answers.
    });
    const hub = createHub();
    const sink = new RecordingSink();
    hub.connect({ scope: 'acme', sink });
    const lines: string[] = [];
    const shutdown = createGracefulShutdown({ server, hub, timeoutMs: 300, jitterMs: 10, log: (l) => lines.push(l) });
    const hung = new Promise<string>((resolve) => {
      const req = request(url, () => resolve('answered'));
      req.on('error', (error) => resolve(String(error)));
      req.end();
    });
    await new Promise<void>((resolve) => server.once('request', () => resolve()));
    const first = shutdown.shutdown('SIGTERM');
    expect(shutdown.shutdown('SIGINT')).toBe(first);
    const report = await first;
    expect(report).toMatchObject({ streams: 1, inFlightAtStart: 1, cut: 1 });
    expect(report.ms).toBeGreaterThanOrEqual(290);
    expect(await hung).toMatch(/socket hang up|ECONNRESET/);
    expect(sink.closed).toBe('drain');
    expect(sink.frames.at(-1)!.message).toMatchObject({ kind: 'reconnect', reason: 'drain' });
    expect(hub.draining).toBe(true);
    expect(lines.filter((l) => l.includes('draining'))).toHaveLength(1);
  });

  it('finishes at once when nothing is in flight, and closes the listener', async () => {
    const { server } = await listen((_req, res) => res.end('ok'));
    const shutdown = createGracefulShutdown({ server, hub: createHub(), log: () => undefined });
    const report = await shutdown.shutdown();
    expect(report).toMatchObject({ streams: 0, inFlightAtStart: 0, cut: 0 });
    expect(report.ms).toBeLessThan(1000);
    expect(server.listening).toBe(false);
  });

  it('asks clients of responses sent while draining to close their connection', async () => {
    let release: () => void = () => undefined;
    const { server, url } = await listen((req, res) => {
      if (req.url === '/slow') release = () => res.end('slow');
      else res.end('fast');
    });
    const shutdown = createGracefulShutdown({ server, hub: createHub(), log: () => undefined });
    const slow = fetch(`${url}/slow`);
    await new Promise<void>((resolve) => server.once('request', () => resolve()));
    const done = shutdown.shutdown();
    // Still listening while the slow request is in flight: a new request is answered, with Connection: close.
    const fast = await fetch(`${url}/fast`);
    expect(fast.headers.get('connection')).toBe('close');
    release();
    expect(await (await slow).text()).toBe('slow');
    expect((await done).cut).toBe(0);
  });
});
