import { createServer, request, type RequestListener, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createHub } from 'trpc-live/core';
import { createGracefulShutdown } from 'trpc-live/node';
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
    const logger = { info: (l: string) => lines.push(l), warn: (l: string) => lines.push(`warn ${l}`), error: (l: string) => lines.push(`error ${l}`) };
    const shutdown = createGracefulShutdown({ server, hub, graceMs: 0, timeoutMs: 300, jitterMs: 10, logger });
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
    // Progress goes to the logger's info level, the cut to the same: nothing at warn or error.
    expect(lines.some((l) => l.includes('cutting 1 request'))).toBe(true);
    expect(lines.filter((l) => /^(warn|error) /.test(l))).toEqual([]);
  });

  it('tracks every request and connection with the same listener functions, no closure or once-wrapper each', async () => {
    const held: ServerResponse[] = [];
    const { server, url } = await listen((_req, res) => void held.push(res));
    const before = { finish: [] as unknown[], close: [] as unknown[] };
    const shutdown = createGracefulShutdown({ server, hub: createHub(), graceMs: 0, timeoutMs: 100, log: () => undefined });
    // Runs before the shutdown's own request listener (prepended later): what the response had before it.
    server.prependListener('request', (_req, res: ServerResponse) => {
      before.finish.push(new Set(res.rawListeners('finish')));
      before.close.push(new Set(res.rawListeners('close')));
    });
    const clients = [1, 2].map(() => {
      const req = request(url, { agent: false }, () => undefined);
      req.on('error', () => undefined);
      req.end();
      return req;
    });
    while (held.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const added = (res: ServerResponse, event: 'finish' | 'close', i: number) =>
      res.rawListeners(event).filter((fn) => !(before[event][i] as Set<unknown>).has(fn));
    for (const event of ['finish', 'close'] as const) {
      expect(added(held[0]!, event, 0)).toHaveLength(1);
      expect(added(held[0]!, event, 0)).toEqual(added(held[1]!, event, 1));
      expect(added(held[0]!, event, 0)[0]).toBe(added(held[1]!, event, 1)[0]);
    }
    for (const res of held) expect(res.socket!.rawListeners('close').map((fn) => fn.name)).not.toContain('bound onceWrapper');
    for (const req of clients) req.destroy();
    await shutdown.shutdown();
  });

  it('finishes at once after the grace when nothing is in flight, and closes the listener', async () => {
    const { server } = await listen((_req, res) => res.end('ok'));
    const shutdown = createGracefulShutdown({ server, hub: createHub(), graceMs: 0, log: () => undefined });
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
    const shutdown = createGracefulShutdown({ server, hub: createHub(), graceMs: 100, log: () => undefined });
    const slow = fetch(`${url}/slow`);
    await new Promise<void>((resolve) => server.once('request', () => resolve()));
    const done = shutdown.shutdown();
    // Still listening during the grace: a new request is answered, with Connection: close.
    const fast = await fetch(`${url}/fast`);
    expect(fast.headers.get('connection')).toBe('close');
    // The slow request outlives the grace and is still answered, on its own connection.
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    expect(await (await slow).text()).toBe('slow');
    expect((await done).cut).toBe(0);
  });

  it('keeps accepting and answering for the grace, every answer with Connection: close, then refuses', async () => {
    const { server, url } = await listen((_req, res) => res.end('ok'));
    const shutdown = createGracefulShutdown({ server, hub: createHub(), graceMs: 300, log: () => undefined });
    const started = Date.now();
    const done = shutdown.shutdown('SIGTERM');
    const answers: Array<string | null> = [];
    while (Date.now() - started < 200) {
      const res = await fetch(url, { headers: { connection: 'close' } });
      answers.push(res.headers.get('connection'));
      await res.text();
    }
    expect(answers.length).toBeGreaterThan(3);
    expect(new Set(answers)).toEqual(new Set(['close']));
    await done;
    await expect(fetch(url)).rejects.toThrow();
  });

  it('answers a request that arrives on a kept-alive connection after the grace instead of resetting it', async () => {
    const { server, url } = await listen((_req, res) => res.end('ok'));
    const port = Number(new URL(url).port);
    const shutdown = createGracefulShutdown({ server, hub: createHub(), graceMs: 100, idleCloseMs: 300, log: () => undefined });
    // Two kept-alive connections, each answered once before the signal.
    const early = await rawClient(port);
    const late = await rawClient(port);
    expect(await early.get()).toMatch(/^HTTP\/1\.1 200[\s\S]*keep-alive/i);
    expect(await late.get()).toMatch(/^HTTP\/1\.1 200/);
    const done = shutdown.shutdown();
    // During the grace: answered, and told to close.
    expect(await early.get()).toMatch(/^HTTP\/1\.1 200[\s\S]*Connection: close/i);
    await new Promise((resolve) => setTimeout(resolve, 150));
    // After the grace (listener closed), a request arrives in two parts on the connection that was idle
    // since before the signal: both parts within the idle window of the bytes before them.
    late.socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const answer = late.get('');
    expect(await answer).toMatch(/^HTTP\/1\.1 200[\s\S]*Connection: close/i);
    expect((await done).cut).toBe(0);
    expect(late.errors).toEqual([]);
  });
});

/** A raw keep-alive HTTP/1.1 client on one socket: what a pooled connection of any client looks like. */
async function rawClient(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const errors: string[] = [];
  socket.on('error', (error) => errors.push(String(error)));
  socket.setEncoding('utf8');
  return {
    socket,
    errors,
    /** Sends `head` (the rest of a GET, or a whole one) and resolves with the complete answer. */
    get(head = 'GET / HTTP/1.1\r\nHost: x\r\n'): Promise<string> {
      return new Promise((resolve, reject) => {
        let text = '';
        const onData = (chunk: string) => {
          text += chunk;
          // Answers here are `ok` with a Content-Length: complete once the body is in.
          if (/\r\n\r\nok$/.test(text)) {
            socket.off('data', onData);
            resolve(text);
          }
        };
        socket.on('data', onData);
        socket.once('close', () => reject(new Error(`connection closed after ${JSON.stringify(text)}`)));
        socket.write(`${head}\r\n`);
      });
    },
  };
}
