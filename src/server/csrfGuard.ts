import { TRPCError, type AnyTRPCRouter } from '@trpc/server';
import { envValue } from './env';
import { trpcErrorResponse } from './trpcErrorResponse';

/**
 * Security duty: no request another site makes a browser send may change
 * anything. A browser attaches the session cookie to a cross-site POST, and
 * `multipart/form-data`, `text/plain` and `application/x-www-form-urlencoded`
 * POSTs need no CORS preflight (tRPC 11 runs mutations from multipart and
 * octet-stream bodies too). So every request that could carry or set a
 * cookie and is not a plain read (any method but GET, HEAD, OPTIONS) must
 * come from this site (its `Origin`, or `Sec-Fetch-Site: same-origin`/`none`
 * when a browser sent no Origin) and carry `Content-Type: application/json`,
 * which no cross-site page can send without a preflight this server never
 * grants.
 *
 * "Could carry or set a cookie" is decided by what the request shows:
 * - it has a `Cookie` header: checked, whatever else it carries (the session
 *   cookie wins over a bearer token in `createContext`, so a cookie-plus-
 *   bearer request acts as the cookie's session and gets the cookie's rules);
 * - it looks like a browser's (`Origin`, `Sec-Fetch-Site`, or a `Mozilla/`
 *   user agent) and has no `Authorization` header: checked, so a cross-site
 *   form cannot sign a victim in to the attacker's account either (login
 *   CSRF: `auth.signIn` sets the cookie on a request that has none);
 * - otherwise (no cookie; a bearer token, or a non-browser client such as
 *   curl, a server or Node's fetch): passed. A page of another site cannot
 *   add `Authorization` without a preflight, so such a request was not forged
 *   by one.
 */

/** A request refused by {@link checkCrossSite}. */
export interface CrossSiteRefusal {
  readonly status: 403 | 415;
  readonly code: 'FORBIDDEN' | 'UNSUPPORTED_MEDIA_TYPE';
  /** Safe to show: says what was wrong and what would be accepted. */
  readonly message: string;
}

/** Options of {@link checkCrossSite}. */
export interface CrossSiteOptions {
  /**
   * Origins accepted besides the request's own (`scheme://host[:port]`), for
   * a proxy that rewrites `Host`. @default `ALLOWED_ORIGINS` (comma-separated), none
   */
  readonly allowedOrigins?: readonly string[];
  /**
   * Take the site's host from `X-Forwarded-Host` (the value the nearest proxy
   * appended) instead of `Host`. @default true when `TRUST_PROXY` is above 0
   */
  readonly trustForwardedHost?: boolean;
}

/** Methods that only read (tRPC serves queries and subscriptions over GET; mutations only over POST). */
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The one body type a cookie-authenticated call may have. */
const JSON_TYPE = 'application/json';

/**
 * `null` when `method` with `headers` may reach the procedures, else why not
 * (403 for a foreign or missing origin, 415 for a body that is not JSON).
 * `url` (the request's) gives the site's host when there is no `Host` header.
 */
export function checkCrossSite(method: string, headers: Headers, options: CrossSiteOptions = {}, url?: string): CrossSiteRefusal | null {
  if (READ_METHODS.has(method.toUpperCase())) return null;
  const origin = headers.get('origin');
  const fetchSite = headers.get('sec-fetch-site');
  const browserLike = origin !== null || fetchSite !== null || /\bMozilla\//.test(headers.get('user-agent') ?? '');
  if (!headers.has('cookie') && (headers.has('authorization') || !browserLike)) return null;

  if (origin !== null) {
    if (!isOwnOrigin(origin, headers, options, url)) {
      return forbidden(`Cross-site request refused: Origin ${origin.slice(0, 200)} is not this site (ALLOWED_ORIGINS lists other accepted origins)`);
    }
  } else if (fetchSite !== 'same-origin' && fetchSite !== 'none') {
    return forbidden(
      fetchSite === null
        ? 'Cross-site request refused: a browser request or a request with a cookie must send an Origin header (or authenticate with a bearer token and no cookie)'
        : `Cross-site request refused: Sec-Fetch-Site is ${fetchSite.slice(0, 40)}`,
    );
  }
  const type = headers.get('content-type');
  if (type?.split(';', 1)[0]!.trim().toLowerCase() !== JSON_TYPE) {
    return {
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: `Requests with a session cookie must send Content-Type: ${JSON_TYPE} (got ${type === null ? 'none' : type.slice(0, 100)})`,
    };
  }
  return null;
}

function forbidden(message: string): CrossSiteRefusal {
  return { status: 403, code: 'FORBIDDEN', message };
}

/** True when `origin` is the site the request was sent to, or one the operator allowed. */
function isOwnOrigin(origin: string, headers: Headers, options: CrossSiteOptions, url?: string): boolean {
  const allowed = options.allowedOrigins ?? envValue('ALLOWED_ORIGINS');
  if (allowed.includes(origin)) return true;
  let host: string;
  try {
    // "null" (sandboxed frames, file:) and anything unparsable are foreign.
    host = new URL(origin).host;
  } catch {
    return false;
  }
  const trustForwarded = options.trustForwardedHost ?? envValue('TRUST_PROXY') > 0;
  const forwarded = trustForwarded ? headers.get('x-forwarded-host')?.split(',').at(-1)?.trim() : undefined;
  // A fetch Request built by hand (tests, some runtimes) has no Host header: its URL's host is the site.
  const siteHost = forwarded || headers.get('host') || (url ? new URL(url).host : null);
  // URL drops a default port from the Origin; a Host header may still carry it.
  return siteHost !== null && (siteHost === host || siteHost.replace(/:(80|443)$/, '') === host);
}

/**
 * The response for a request {@link checkCrossSite} refuses (a tRPC error
 * whose message says why), or `null`.
 */
export function crossSiteRefusalResponse(req: Request, router: AnyTRPCRouter, options?: CrossSiteOptions): Response | null {
  const refusal = checkCrossSite(req.method, req.headers, options, req.url);
  return refusal && trpcErrorResponse(router, new TRPCError({ code: refusal.code, message: refusal.message }));
}
