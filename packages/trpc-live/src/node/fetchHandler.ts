import type { IncomingMessage, ServerResponse } from 'node:http';
import { incomingMessageToRequest } from '@trpc/server/adapters/node-http';
import { consoleLogger, type LiveLogger } from '../shared/logger.ts';

/** Options of {@link nodeHandlerFromFetch}. */
export interface NodeFetchHandlerOptions {
  /**
   * Largest request body accepted, in bytes (larger ones are answered 413);
   * `null` when the handler bounds bodies itself. @default 1_048_576
   */
  maxBodySize?: number | null;
  /** Called when the handler throws (the client gets an empty 500). @default reports through `logger.error` */
  onError?: (error: unknown) => void;
  /** Where a failed request is reported when no `onError` is given. @default consoleLogger (the global console) */
  logger?: LiveLogger;
}

/** Writes a fetch `Response` to a Node response, streaming the body until either side ends. */
export async function writeFetchResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key !== 'set-cookie') headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  res.once('close', () => void reader.cancel().catch(() => undefined));
  for (;;) {
    const { done, value } = await reader.read();
    if (done || res.destroyed) break;
    if (!res.write(value)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}

/** How long the rest of a body the handler left unread may keep arriving after the answer. */
const UNREAD_BODY_LINGER_MS = 5_000;

/**
 * The handler answered without reading the whole body (e.g. 413 for a body
 * over its limit): the rest is read and dropped (nothing buffered) while the
 * answer goes out, so a client still uploading sees the answer instead of a
 * reset, and the connection stays usable once the body has ended. A body
 * still arriving after {@link UNREAD_BODY_LINGER_MS} gets its connection cut.
 */
function dropUnreadBody(req: IncomingMessage): void {
  // The adapter's listener would keep queueing chunks nobody reads.
  req.removeAllListeners('data');
  req.resume();
  const cut = setTimeout(() => req.socket.destroy(), UNREAD_BODY_LINGER_MS).unref();
  req.once('end', () => clearTimeout(cut));
  req.once('close', () => clearTimeout(cut));
}

/**
 * tRPC's request adapter ends the body stream on the request's `end` only: a
 * client gone in the middle of its body left the handler's `req.json()`
 * pending for ever, and whatever the handler holds until it answers with it
 * (measured: the app's per-user count of requests in flight, so 8 POSTs cut
 * after half their body answered every later request of that user 429
 * until a restart). The body given to the handler errors when the
 * connection closes before the body ended, so the handler answers (to no
 * one) and lets go. Its cost, measured with a small JSON POST on loopback
 * (client and server in one process, median of 8 alternated rounds of 4,000):
 * ~37 µs of CPU per POST (207 against 170 µs without it), under 1% of what a
 * mutation of the demo costs the server (5.9-8.7 ms, BENCHMARKS.md). GETs
 * have no body and pay nothing.
 */
function bodyEndingWithConnection(request: Request, req: IncomingMessage): Request {
  if (!request.body || req.complete) return request;
  const source = request.body.getReader();
  let gone: ((reason: Error) => void) | null = null;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      gone = (reason) => controller.error(reason);
    },
    async pull(controller) {
      const chunk = await source.read();
      // After `gone`, the stream is errored: nothing more to hand over.
      if (gone === null) return;
      if (chunk.done) controller.close();
      else controller.enqueue(chunk.value);
    },
    cancel(reason) {
      gone = null;
      return source.cancel(reason);
    },
  });
  req.once('close', () => {
    if (req.complete || gone === null) return;
    const fail = gone;
    gone = null;
    fail(new Error('The client closed the connection before its request body ended'));
    // Ends the adapter's stream (it destroys the request), so a read still waiting on it settles.
    void source.cancel().catch(() => undefined);
  });
  return new Request(request, { body, duplex: 'half' } as RequestInit);
}

/**
 * Mounts a fetch-API handler (e.g. tRPC's `fetchRequestHandler`, the same
 * function a Next.js route exports) on `node:http`, through tRPC's own
 * request adapter: the request's abort signal follows the socket. The
 * handler also gets the Node request (e.g. for the peer's address). Serving
 * tRPC this way skips Next's route runtime, about a third of the CPU per
 * request on these machines.
 */
export function nodeHandlerFromFetch(
  handler: (request: Request, req: IncomingMessage) => Promise<Response>,
  options: NodeFetchHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const maxBodySize = options.maxBodySize === undefined ? 1_048_576 : options.maxBodySize;
  const logger = options.logger ?? consoleLogger;
  const onError = options.onError ?? ((error: unknown) => logger.error('[trpc-live] request failed:', error));
  return (req, res) => {
    let request: Request;
    try {
      request = bodyEndingWithConnection(incomingMessageToRequest(req, res, { maxBodySize }), req);
    } catch (error) {
      onError(error);
      res.writeHead(400).end();
      return;
    }
    handler(request, req)
      .then((response) => {
        if (!req.complete) dropUnreadBody(req);
        return writeFetchResponse(response, res);
      })
      .catch((error: unknown) => {
        onError(error);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  };
}
