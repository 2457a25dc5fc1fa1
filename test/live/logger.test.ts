// One logger option (issue 18 item 7): what the library used to print with console.error/console.warn
// goes to the `logger` an adopter passes (same message, same error), and to the console only through
// the one default, consoleLogger.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { initTRPC } from '@trpc/server';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { createHub } from 'trpc-live/core';
import { createLiveTransport, nodeHandlerFromFetch } from 'trpc-live/node';
import { defineResources, type LiveLogger } from 'trpc-live/shared';
import { createLive, liveStreamInput } from 'trpc-live/trpc';
import { reportStreamStopped } from '../../packages/trpc-live/src/react/LiveProvider.tsx';
import { waitFor } from '../helpers/wait';

/** A logger that records every call. */
function recordingLogger() {
  const calls: Array<{ level: 'warn' | 'error'; args: unknown[] }> = [];
  const logger: LiveLogger = {
    warn: (...args) => calls.push({ level: 'warn', args }),
    error: (...args) => calls.push({ level: 'error', args }),
  };
  return { logger, calls };
}

let consoleError: MockInstance;
let consoleWarn: MockInstance;
beforeEach(() => {
  consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  consoleWarn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => vi.restoreAllMocks());

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** GETs `url` and resolves with the status once the response ended (or the socket broke: 0). */
function get(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

describe('the logger option', () => {
  it('gets a publish problem after a mutation instead of console.error when createLive is given one', async () => {
    const { logger, calls } = recordingLogger();
    const live = createLive<object>({ hub: createHub(), resources: defineResources({ orders: { queries: [] } }), logger });
    await live.publishKeys({}, [{ resource: 'refunds' } as never]);
    expect(calls).toEqual([
      { level: 'error', args: ['[trpc-live] invalidation after a successful mutation:', expect.objectContaining({ message: expect.stringContaining('unknown resource "refunds"') })] },
    ]);
    expect(consoleError).not.toHaveBeenCalled();
  });

  it('gets a failed request instead of console.error when nodeHandlerFromFetch is given one', async () => {
    const { logger, calls } = recordingLogger();
    const failure = new Error('handler broke');
    const url = await listen(nodeHandlerFromFetch(() => Promise.reject(failure), { logger }));
    expect(await get(url)).toBe(500);
    expect(calls).toEqual([{ level: 'error', args: ['[trpc-live] request failed:', failure] }]);
    expect(consoleError).not.toHaveBeenCalled();
  });

  it('falls back to console.error through the default logger when nodeHandlerFromFetch is given none', async () => {
    const failure = new Error('handler broke');
    const url = await listen(nodeHandlerFromFetch(() => Promise.reject(failure)));
    expect(await get(url)).toBe(500);
    expect(consoleError).toHaveBeenCalledWith('[trpc-live] request failed:', failure);
  });

  it('gets a failure of the fast transport itself instead of console.error when createLiveTransport is given one', async () => {
    const { logger, calls } = recordingLogger();
    const t = initTRPC.create();
    const live = createLive<object>({ hub: createHub() });
    const router = t.router({
      live: t.router({ stream: t.procedure.input(liveStreamInput.optional()).subscription(({ ctx, input, signal }) => live.stream(ctx, input, signal)) }),
    });
    const transport = createLiveTransport({ router, createContext: () => ({}), logger });
    const failure = new Error('socket refused the head');
    const url = await listen((req, res) => {
      // The first writeHead (the stream's head) throws: nothing in the transport catches that but its last resort.
      const writeHead = res.writeHead.bind(res);
      res.writeHead = (() => {
        res.writeHead = writeHead;
        throw failure;
      }) as typeof res.writeHead;
      if (!transport.handle(req, res)) res.writeHead(404).end();
    });
    expect(await get(`${url}/api/trpc/live.stream`)).toBe(500);
    await waitFor(() => calls.length > 0, 'the logged failure');
    expect(calls).toEqual([{ level: 'error', args: ['[trpc-live] live transport failed:', failure] }]);
    expect(consoleError).not.toHaveBeenCalled();
    transport.close();
  });

  it("gets a stream that stopped for good as a warning instead of console.warn when LiveProvider is given one, and onStreamError wins over both", () => {
    const { logger, calls } = recordingLogger();
    reportStreamStopped({ logger }, { message: 'UNAUTHORIZED' });
    expect(calls).toEqual([{ level: 'warn', args: ['[trpc-live] stream stopped:', 'UNAUTHORIZED'] }]);
    const onStreamError = vi.fn();
    reportStreamStopped({ logger, onStreamError }, { message: 'again' });
    expect(onStreamError).toHaveBeenCalledWith({ message: 'again' });
    expect(calls).toHaveLength(1);
    reportStreamStopped({}, { message: 'no logger' });
    expect(consoleWarn).toHaveBeenCalledWith('[trpc-live] stream stopped:', 'no logger');
  });
});
