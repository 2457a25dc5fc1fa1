/** What an EventSource implementation with a `fetch` option (e.g. `eventsource@4`) looks like. */
export type FetchingEventSourceClass = new (
  url: string | URL,
  init?: { fetch?: (url: string | URL, init?: any) => Promise<any>; [key: string]: unknown },
) => any;

/** Options of {@link credentialEventSource}. */
export interface CredentialEventSourceOptions {
  /** Response header carrying the connection credential. @default 'x-live-credential' */
  header?: string;
  /** The fetch to wrap. @default globalThis.fetch */
  fetch?: (url: string | URL, init?: any) => Promise<any>;
}

/**
 * For non-browser clients that authenticate the live stream with a one-time
 * ticket (`connectionParams: { ticket }`): wraps an EventSource class so that
 * the connection credential the server returns for a spent ticket replaces the
 * ticket on every reconnect. Without it, the EventSource's automatic reconnect
 * would replay the spent ticket and be refused.
 *
 * ```ts
 * httpSubscriptionLink({ url, connectionParams: () => ({ ticket }), EventSource: credentialEventSource(EventSource) })
 * ```
 */
export function credentialEventSource<T extends FetchingEventSourceClass>(
  Base: T,
  options: CredentialEventSourceOptions = {},
): T {
  const header = options.header ?? 'x-live-credential';
  const baseFetch = options.fetch ?? ((url: string | URL, init?: any) => globalThis.fetch(url, init));
  let credential: string | null = null;

  const rewrite = (input: string | URL): string | URL => {
    if (!credential) return input;
    const url = new URL(String(input));
    const raw = url.searchParams.get('connectionParams');
    let params: Record<string, unknown> = {};
    try {
      params = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      params = {};
    }
    delete params.ticket;
    params.credential = credential;
    url.searchParams.set('connectionParams', JSON.stringify(params));
    return url.toString();
  };

  const wrapped = class extends (Base as FetchingEventSourceClass) {
    constructor(url: string | URL, init?: Record<string, unknown>) {
      const userFetch = (init?.fetch as typeof baseFetch | undefined) ?? baseFetch;
      super(url, {
        ...init,
        fetch: async (input: string | URL, fetchInit?: any) => {
          const response = await userFetch(rewrite(input), fetchInit);
          const issued = response?.headers?.get?.(header);
          if (issued) credential = issued;
          return response;
        },
      });
    }
  };
  return wrapped as unknown as T;
}
