import { envValue } from '../env';

/**
 * `TRUST_PROXY`: how many reverse proxies in front of the app append to
 * `X-Forwarded-For`. @default 0 (the header is ignored)
 * @throws naming the variable when it is not a whole number (the Node entry calls it at startup).
 */
export function trustedProxies(): number {
  return envValue('TRUST_PROXY');
}

/**
 * The address of the client a request comes from, for per-address limits.
 * With `TRUST_PROXY=n` (the number of reverse proxies in front of the app,
 * default 0) it is the n-th address from the right of `X-Forwarded-For`:
 * each trusted proxy appends the peer it saw, so entries further left were
 * written by the client and can be anything. With 0, the socket's peer.
 * `null` when unknown (the Next route does not expose the socket).
 */
export function clientAddress(
  headers: Headers,
  remoteAddress: string | undefined,
  trustProxy = trustedProxies(),
): string | null {
  if (trustProxy > 0) {
    const chain = (headers.get('x-forwarded-for') ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    // Fewer entries than proxies: the request skipped a proxy; the leftmost is the best we have.
    const fromProxy = chain[Math.max(0, chain.length - trustProxy)];
    if (fromProxy) return fromProxy.slice(0, 64);
  }
  return remoteAddress ?? null;
}
