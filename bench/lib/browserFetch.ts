import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/** What one simulated browser sent and received, counted on its own sockets. */
export interface BrowserTraffic {
  /** HTTP requests sent, by kind. */
  queries: number;
  mutations: number;
  streams: number;
  /** tRPC procedure calls inside those requests (a batched GET carries several). */
  queryCalls: number;
  /** Bytes read from / written to this browser's sockets (headers, bodies and framing: what crossed the wire). */
  bytesIn: number;
  bytesOut: number;
  /** TCP connections open now, and the most open at once since the last {@link BrowserFetch.resetPeak}. */
  openSockets: number;
  peakSockets: number;
  /** TCP connections opened so far. */
  socketsOpened: number;
  /** Requests sent again because the server had closed the idle keep-alive socket they went out on. */
  resent: number;
}

/** A `fetch` over `node:http` with a browser's connection pool, counting its traffic. */
export interface BrowserFetch {
  readonly fetch: typeof fetch;
  traffic(): BrowserTraffic;
  /** Starts a new peak window for {@link BrowserTraffic.peakSockets}. */
  resetPeak(): void;
  /** Closes every socket. */
  destroy(): void;
}

/** Options of {@link createBrowserFetch}. */
export interface BrowserFetchOptions {
  /** Sent on every request, as a browser sends its cookie. @default none */
  cookie?: string | null;
  /**
   * Connections per origin. Browsers allow 6 over HTTP/1.1 (a held SSE stream
   * takes one of them). @default 6
   */
  maxSockets?: number;
}

const NULL_BODY = new Set([101, 204, 205, 304]);

function headersOf(raw: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

function plainHeaders(init: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!init) return out;
  new Headers(init).forEach((value, key) => (out[key] = value));
  return out;
}

/**
 * One simulated browser's network: keep-alive sockets pooled like a
 * browser's (at most `maxSockets` to the origin), each counted at the socket
 * (`bytesRead`/`bytesWritten`), so the figures include headers and chunked
 * framing. Asks for and decodes compressed responses (gzip, deflate, br) as a
 * browser does. Good enough for tRPC's links and eventsource@4 (streaming
 * bodies, abort signals); not a general-purpose fetch (no redirects).
 */
export function createBrowserFetch(options: BrowserFetchOptions = {}): BrowserFetch {
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 6 });
  const sockets = new Set<Socket>();
  const counts = { resent: 0, queries: 0, mutations: 0, streams: 0, queryCalls: 0, closedIn: 0, closedOut: 0, peak: 0, opened: 0 };
  const create = agent.createConnection.bind(agent) as (...args: unknown[]) => Socket;
  (agent as unknown as { createConnection: (...args: unknown[]) => Socket }).createConnection = (...args: unknown[]) => {
    const socket = create(...args);
    sockets.add(socket);
    counts.opened++;
    counts.peak = Math.max(counts.peak, sockets.size);
    socket.once('close', () => {
      sockets.delete(socket);
      counts.closedIn += socket.bytesRead;
      counts.closedOut += socket.bytesWritten;
    });
    return socket;
  };

  const browserFetch = (async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = plainHeaders(init.headers);
    if (options.cookie) headers.cookie = options.cookie;
    // As a browser: a POST carries the page's Origin (the server refuses cookie POSTs without it).
    if (method !== 'GET' && method !== 'HEAD') headers.origin ??= url.origin;
    const body = typeof init.body === 'string' ? init.body : init.body == null ? null : String(init.body);
    if (body !== null) headers['content-length'] = String(Buffer.byteLength(body));
    // As a browser: compressed responses welcome (the counts above the socket see the wire bytes).
    headers['accept-encoding'] ??= 'gzip, deflate, br';
    const accept = headers.accept ?? '';
    if (accept.includes('text/event-stream')) counts.streams++;
    else if (method === 'GET') {
      counts.queries++;
      const procedures = url.pathname.split('/').pop() ?? '';
      counts.queryCalls += procedures ? decodeURIComponent(procedures).split(',').length : 0;
    } else counts.mutations++;

    const send = (attempt: number): Promise<Response> =>
      new Promise<Response>((resolve, reject) => {
        const req = request(url, { method, headers, agent, ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
          const status = res.statusCode ?? 0;
          const responseHeaders = headersOf(res.rawHeaders);
          if (NULL_BODY.has(status)) {
            res.resume();
            resolve(new Response(null, { status, statusText: res.statusMessage ?? '', headers: responseHeaders }));
            return;
          }
          const encoding = responseHeaders.get('content-encoding');
          const decoder =
            encoding === 'gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : encoding === 'br' ? createBrotliDecompress() : null;
          if (decoder) {
            responseHeaders.delete('content-encoding');
            responseHeaders.delete('content-length');
            res.on('error', (error) => decoder.destroy(error));
            res.on('close', () => {
              if (!res.complete) decoder.destroy(new Error('response aborted'));
            });
          }
          const stream = Readable.toWeb(decoder ? res.pipe(decoder) : res) as unknown as ReadableStream<Uint8Array>;
          resolve(new Response(stream, { status, statusText: res.statusMessage ?? '', headers: responseHeaders }));
        });
        req.on('error', (error: NodeJS.ErrnoException) => {
          // The server closed an idle keep-alive socket just as this request went out on it. Browsers
          // resend on a new connection when nothing came back; so do we (once).
          if (attempt === 0 && req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE') && !init.signal?.aborted) {
            counts.resent++;
            resolve(send(1));
          } else reject(error);
        });
        if (body !== null) req.end(body);
        else req.end();
      });
    return send(0);
  }) as typeof fetch;

  return {
    fetch: browserFetch,
    traffic() {
      let liveIn = 0;
      let liveOut = 0;
      for (const socket of sockets) {
        liveIn += socket.bytesRead;
        liveOut += socket.bytesWritten;
      }
      return {
        queries: counts.queries,
        mutations: counts.mutations,
        streams: counts.streams,
        queryCalls: counts.queryCalls,
        bytesIn: counts.closedIn + liveIn,
        bytesOut: counts.closedOut + liveOut,
        openSockets: sockets.size,
        peakSockets: counts.peak,
        socketsOpened: counts.opened,
        resent: counts.resent,
      };
    },
    resetPeak() {
      counts.peak = sockets.size;
    },
    destroy() {
      agent.destroy();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** The `set-cookie` session cookie of a sign-in response (`name=value`), or null. */
export function sessionCookieOf(headers: IncomingHttpHeaders | Headers): string | null {
  const all = headers instanceof Headers ? headers.getSetCookie() : ([] as string[]).concat(headers['set-cookie'] ?? []);
  const cookie = all.find((c) => c.startsWith('live_session='));
  return cookie ? cookie.split(';')[0]! : null;
}

/**
 * Signs `email` in through the app's own `auth.signIn` procedure (superjson's `{ json }` envelope, as the app's
 * client sends it) and returns its session cookie (`name=value`); throws with the status and body when the server
 * refuses or sets no cookie.
 */
export async function signIn(baseUrl: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/trpc/auth.signIn`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ json: { email, password } }),
  });
  const cookie = sessionCookieOf(res.headers);
  const text = await res.text();
  if (!res.ok || !cookie) throw new Error(`sign-in of ${email} failed: ${res.status} ${text}`);
  return cookie;
}
