import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { TRPCError, type AnyTRPCRouter, type inferRouterContext } from '@trpc/server';
import {
  getErrorShape,
  getHTTPStatusCode,
  getLastEventId,
  getRequestInfo,
  getTRPCErrorFromUnknown,
  sseHeaders,
  transformTRPCResponse,
  type TRPCRequestInfo,
} from '@trpc/server/unstable-core-do-not-import';
import { isLiveStream } from '../trpc/index.ts';
import { consoleLogger, type LiveLogger } from '../shared/logger.ts';
import { Heartbeat } from './heartbeat.ts';
import { SocketSink, type SocketSinkHost } from './socketSink.ts';
import { isSendableEventId, sseConnected } from './sseFormat.ts';
import { createStreamErrors } from './streamErrors.ts';

/** What the transport's `createContext` receives; the same request the stock route would see. */
export interface LiveTransportContextOptions {
  /**
   * The incoming stream request. Once the stream is live, a complete request is read to its end, so its
   * 'close' fires then; the client leaving is the response's 'close' (or the procedure's `signal`).
   */
  readonly req: IncomingMessage;
  /** Its response (the transport writes the stream to it; do not end it here). */
  readonly res: ServerResponse;
  /** The request headers as a fetch `Headers` (what tRPC's fetch adapter gives `createContext`). */
  readonly headers: Headers;
  /** Headers to add to the response (e.g. a refreshed cookie), as with tRPC's fetch adapter. */
  readonly resHeaders: Headers;
  /**
   * tRPC's parsed request info (procedure calls, connection params), as its adapters give it.
   * @remarks Unstable: the type comes from `@trpc/server/unstable-core-do-not-import`.
   */
  readonly info: TRPCRequestInfo;
}

/** Arguments of {@link LiveTransportOptions.onError}, as tRPC's `onError` gets them. */
export interface LiveTransportErrorOptions<TCtx> {
  /** The error answered to the client. */
  readonly error: TRPCError;
  /** The procedure path the request named. */
  readonly path: string;
  /** The request's input, `undefined` when it was not read. */
  readonly input: unknown;
  /** The context, `undefined` when the error came before it existed (e.g. `createContext` failed). */
  readonly ctx: TCtx | undefined;
  /** `'unknown'` when the request could not even be parsed, else `'subscription'`. */
  readonly type: 'subscription' | 'unknown';
  /** The incoming request. */
  readonly req: IncomingMessage;
}

/** Options of {@link createLiveTransport}. */
export interface LiveTransportOptions<TRouter extends AnyTRPCRouter> {
  /** The app's router; the live procedure is called through it (same input schema and middleware). */
  router: TRouter;
  /** The app's context factory, the same one the tRPC route uses. */
  createContext: (
    opts: LiveTransportContextOptions,
  ) => inferRouterContext<TRouter> | Promise<inferRouterContext<TRouter>>;
  /** Path of the live subscription procedure in the router. @default 'live.stream' */
  path?: string;
  /** Where tRPC is mounted. @default '/api/trpc' */
  endpoint?: string;
  /**
   * Ping interval in ms (an idle stream gets a ping after this long), or
   * `false` for none. @default the router's `sse.ping.intervalMs` when
   * `sse.ping.enabled` (tRPC's default 1000 ms), else `false`
   */
  pingIntervalMs?: number | false;
  /** Called for every error answered to a client (as tRPC's `onError`). @default none */
  onError?: (opts: LiveTransportErrorOptions<inferRouterContext<TRouter>>) => void;
  /** Where a failure of the transport itself (not an error answered to a client) is reported. @default consoleLogger (the global console) */
  logger?: LiveLogger;
}

/** A fast live transport mounted on a `node:http` server. */
export interface LiveTransport {
  /**
   * Serves `req` if it is a live stream request (GET `<endpoint>/<path>`,
   * not batched, JSON or no content type) and returns `true`; returns
   * `false` for anything else, which the caller hands to tRPC's own route.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Streams currently attached to the hub through this transport. */
  readonly streams: number;
  /** Stops the ping timer. Streams are ended by the hub (`hub.drain()`), not here. */
  close(): void;
}

const trimSlashes = (path: string) => path.replace(/^\/+|\/+$/g, '');

function isJsonOrNone(contentType: string | undefined): boolean {
  return contentType === undefined || contentType.split(';', 1)[0]!.trim().toLowerCase() === 'application/json';
}

/** Request headers as a fetch `Headers`, as tRPC's node adapter builds them. */
function toHeaders(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const key in incoming) {
    if (key.startsWith(':')) continue;
    const value = incoming[key];
    if (Array.isArray(value)) for (const item of value) headers.append(key, item);
    else if (value != null) headers.append(key, value);
  }
  return headers;
}

/**
 * Ping tick and longest stream duration from the router's `sse` settings, checked as
 * tRPC's own stream producer checks them; throws when `path` names a
 * procedure that is not a subscription.
 */
function streamTimings(
  router: AnyTRPCRouter,
  path: string,
  pingOption: number | false | undefined,
): { tickMs: number | null; maxDurationMs: number | undefined } {
  const sse = router._def._config.sse;
  const known = (router._def.procedures as Record<string, { _def: { type: string } } | undefined>)[path];
  if (known && known._def.type !== 'subscription') {
    throw new Error(`createLiveTransport: "${path}" is a ${known._def.type}, not a subscription`);
  }
  const pingIntervalMs = pingOption !== undefined ? pingOption : sse?.ping?.enabled ? (sse.ping.intervalMs ?? 1000) : false;
  const reconnectAfter = sse?.client?.reconnectAfterInactivityMs;
  if (pingIntervalMs !== false && reconnectAfter && pingIntervalMs > reconnectAfter) {
    // The same guard as tRPC's sseStreamProducer: a slower ping makes every idle client reconnect.
    throw new Error(
      `Ping interval must be less than client reconnect interval - ping.intervalMs: ${pingIntervalMs} client.reconnectAfterInactivityMs: ${reconnectAfter}`,
    );
  }
  const maxDurationMs = sse?.maxDurationMs;
  // Ticks at half the interval: an idle stream is pinged once per interval,
  // and no stream stays silent longer than the interval.
  const tickMs =
    pingIntervalMs !== false && pingIntervalMs > 0 && pingIntervalMs !== Infinity
      ? pingIntervalMs / 2
      : maxDurationMs
        ? Math.min(maxDurationMs, 1000)
        : null;
  return { tickMs, maxDurationMs };
}

/**
 * Calls the live procedure as tRPC's route would (its input parser and
 * middleware run) and returns the `LiveStream` it must yield; throws a
 * `TRPCError` as the route would answer it otherwise.
 */
async function startLiveStream(call: TRPCRequestInfo['calls'][number], path: string, ctx: unknown, signal: AbortSignal): Promise<unknown> {
  const procedure = call.procedure;
  if (!procedure) throw new TRPCError({ code: 'NOT_FOUND', message: `No procedure found on path "${path}"` });
  if (procedure._def.type !== 'subscription') {
    throw new TRPCError({
      code: 'METHOD_NOT_SUPPORTED',
      message: `Unsupported GET-request to ${procedure._def.type} procedure at path "${path}"`,
    });
  }
  const result = await procedure({ path, getRawInput: call.getRawInput, ctx, type: 'subscription', signal, batchIndex: 0 });
  if (!isLiveStream(result)) {
    throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: `Subscription ${path} did not return a live stream` });
  }
  return result;
}

/**
 * The `resHeaders` a stream's `createContext` gets: a fetch `Headers` that
 * remembers whether anything was set or appended, so the usual stream (none
 * added) skips looking. Asking an undici `Headers` whether it is empty walks
 * an iterator: ~7 µs of each stream open (server CPU profile of a 4,000-stream
 * reconnect storm, 2026-12-07).
 */
class ResponseHeaders extends Headers {
  /** Something was set or appended (a later delete may have removed it again). */
  touched = false;

  override append(name: string, value: string): void {
    this.touched = true;
    super.append(name, value);
  }

  override set(name: string, value: string): void {
    this.touched = true;
    super.set(name, value);
  }
}

/** The stream's response head: the fixed SSE headers plus what `createContext` added (cookies kept as a list). */
function withResponseHeaders(base: OutgoingHttpHeaders, added: ResponseHeaders): OutgoingHttpHeaders {
  if (!added.touched) return base;
  const head = { ...base };
  added.forEach((value, key) => {
    if (key !== 'set-cookie') head[key] = value;
  });
  const cookies = added.getSetCookie();
  if (cookies.length) head['set-cookie'] = cookies;
  return head;
}

/**
 * Serves a tRPC live subscription over raw `node:http`, speaking tRPC's SSE
 * protocol byte for byte, so an unchanged `httpSubscriptionLink` consumes it.
 *
 * One code path with the stock route: the request is parsed by tRPC's
 * `getRequestInfo` (input, `lastEventId` from the `Last-Event-ID` header or
 * query), the context comes from the app's `createContext`, and the
 * procedure itself is called, so its input schema and middleware (auth)
 * run. Whatever they throw is answered as the stock route answers it (200,
 * `connected`, then `serialized-error` with the router's error shape). The
 * procedure must return a `LiveStream`; instead of iterating it, the
 * transport attaches the socket to the hub through a {@link SocketSink}.
 *
 * Budgets: per idle stream, the socket and a small sink object (no timers,
 * streams or promises); per published frame, one encoding shared by every
 * recipient; per flush, one socket write per connection.
 *
 * @remarks Unstable: built on `@trpc/server/unstable-core-do-not-import`
 * (`getRequestInfo`, `getLastEventId`, `getErrorShape`, `getHTTPStatusCode`,
 * `getTRPCErrorFromUnknown`, `transformTRPCResponse`, `sseHeaders`), so that
 * it reads requests, shapes errors and writes tRPC's SSE wire format exactly
 * as tRPC's own route does. tRPC may change those internals in any release;
 * this export may then change with them. See the package README, "Entry points, and what is unstable".
 */
export function createLiveTransport<TRouter extends AnyTRPCRouter>(options: LiveTransportOptions<TRouter>): LiveTransport {
  type TCtx = inferRouterContext<TRouter>;
  const router = options.router;
  const config = router._def._config;
  const path = options.path ?? 'live.stream';
  const route = `/${trimSlashes(options.endpoint ?? '/api/trpc')}/${path}`;
  const sse = config.sse;
  const enabled = sse?.enabled !== false;

  const { tickMs, maxDurationMs } = streamTimings(router, path, options.pingIntervalMs);
  const heartbeat = new Heartbeat<SocketSink>(tickMs);
  const preamble = sseConnected(sse?.client);

  const baseHeaders: OutgoingHttpHeaders = { vary: 'trpc-accept, accept' };
  for (const [key, value] of Object.entries(sseHeaders)) baseHeaders[key.toLowerCase()] = value;

  const logger = options.logger ?? consoleLogger;
  const errors = createStreamErrors(router, path);
  const serializedError = (error: TRPCError, input: unknown, ctx: TCtx | undefined) => errors.event(error, input, ctx);
  const host: SocketSinkHost = {
    heartbeat,
    ...(maxDurationMs ? { maxDurationMs } : {}),
    errorEvent: (error) => errors.event(error),
  };

  const reportError = (error: TRPCError, req: IncomingMessage, input: unknown, ctx: TCtx | undefined) => {
    try {
      options.onError?.({ error, path, input, ctx, type: 'subscription', req });
    } catch {
      // A logging hook must not break the response.
    }
  };

  /** Answers as tRPC's route does when the request cannot even be parsed (plain JSON error). */
  const answerUnparsable = (req: IncomingMessage, res: ServerResponse, cause: unknown) => {
    const error = getTRPCErrorFromUnknown(cause);
    try {
      options.onError?.({ error, path, input: undefined, ctx: undefined, type: 'unknown', req });
    } catch {
      // ignore
    }
    const untransformed = {
      error: getErrorShape({ config, error, type: 'unknown', path: undefined, input: undefined, ctx: undefined }),
    };
    res.writeHead(getHTTPStatusCode(untransformed), { vary: 'trpc-accept, accept', 'content-type': 'application/json' });
    res.end(JSON.stringify(transformTRPCResponse(config, untransformed)));
  };

  async function serve(req: IncomingMessage, res: ServerResponse, search: URLSearchParams): Promise<void> {
    // Created first, so a client leaving during auth is noticed (no zombie).
    const sink = new SocketSink(res, host);
    const headers = toHeaders(req.headers);
    const secure = 'encrypted' in req.socket && (req.socket as { encrypted?: boolean }).encrypted;
    let url: URL;
    let info: TRPCRequestInfo;
    try {
      url = new URL(req.url!, `${secure ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`);
      // A GET carries no body: this is all of Request that getRequestInfo reads for it.
      const request = { method: 'GET', headers, signal: sink.signal, url: url.href } as unknown as Request;
      info = await getRequestInfo({ req: request, path, router, searchParams: search, headers, url });
    } catch (cause) {
      answerUnparsable(req, res, cause);
      return;
    }

    const call = info.calls[0]!;
    const resHeaders = new ResponseHeaders();
    let ctx: TCtx | undefined;
    let result: unknown;
    let error: TRPCError | null = null;
    try {
      ctx = await options.createContext({ req, res, headers, resHeaders, info });
    } catch (cause) {
      error = getTRPCErrorFromUnknown(cause);
    }
    if (!error) {
      try {
        result = await startLiveStream(call, path, ctx, sink.signal);
      } catch (cause) {
        error = getTRPCErrorFromUnknown(cause);
      }
    }
    if (sink.done) return;

    const head = withResponseHeaders(baseHeaders, resHeaders);
    const lastEventId = getLastEventId({ headers, searchParams: search });
    sink.begin(head, preamble, isSendableEventId(lastEventId) ? lastEventId : null);

    if (error || !isLiveStream(result)) {
      const failure = error ?? new TRPCError({ code: 'INTERNAL_SERVER_ERROR' });
      reportError(failure, req, call.result(), ctx);
      sink.fail(serializedError(failure, call.result(), ctx));
      return;
    }
    let connection;
    try {
      connection = result.connect(sink);
    } catch (cause) {
      // The stock route meets the same error (mapped the same way) on its first read of the stream.
      const failure = getTRPCErrorFromUnknown(cause);
      reportError(failure, req, call.result(), ctx);
      sink.fail(serializedError(failure, call.result(), ctx));
      return;
    }
    sink.attach(connection);
    // A live stream's request is a GET, read by now: let it reach its end, as node:http does itself
    // (`req._dump()`) once a response finishes. A request still unread when its socket closes is destroyed by
    // node:http with a fresh ECONNRESET error whose stack it formats (`abortIncoming`): 26-44 µs of each
    // reconnect's server CPU in a 10,000-stream reset storm (CPU profiles, 2026-12-07). Read to its end, the
    // request closes now ('close' of a request means it was read); the stream's end is, as before, the
    // response's 'close' and the procedure's `signal`. Only a complete request: a body still arriving stays
    // unread (backpressure), as before.
    if (req.complete) req.resume();
  }

  return {
    handle(req, res) {
      if (!enabled || req.method !== 'GET' || !req.url) return false;
      const q = req.url.indexOf('?');
      if ((q === -1 ? req.url : req.url.slice(0, q)) !== route) return false;
      const search = new URLSearchParams(q === -1 ? '' : req.url.slice(q + 1));
      // Anything unusual goes to the stock route, which refuses it in tRPC's own words.
      if (search.get('batch') === '1' || !isJsonOrNone(req.headers['content-type'])) return false;
      serve(req, res, search).catch((cause: unknown) => {
        logger.error('[trpc-live] live transport failed:', cause);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
      return true;
    },
    get streams() {
      return heartbeat.size;
    },
    close() {
      heartbeat.stop();
    },
  };
}
