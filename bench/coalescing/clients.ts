/**
 * Child process of the coalescing benchmark: signed-in users, each holding
 * the app's live stream through the real tRPC client (httpSubscriptionLink,
 * eventsource@4 over a counting fetch), recording every progress frame and
 * the completion of the import they are told to watch.
 */
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import { EventSource } from 'eventsource';
import superjson from 'superjson';
import type { LiveMessage } from 'trpc-live/core';
import type { AppRouter } from '../../src/server/routers/_app';
import { MAX_BATCH_SIZE } from '../../src/trpc/batchLimit';
import { createBrowserFetch, signIn, type BrowserFetch } from '../lib/browserFetch';
import { serveParent } from '../lib/child';

interface Client {
  readonly net: BrowserFetch;
  unsubscribe: () => void;
  hello: boolean;
  /** Progress frames per key: [current, total, received at (ms since the epoch)] in arrival order. */
  readonly progress: Map<string, Array<[number, number, number]>>;
  /** Completed keys and when (ms since the epoch). */
  readonly completed: Map<string, number>;
}

const clients: Client[] = [];

function connect(baseUrl: string, cookie: string): Client {
  const net = createBrowserFetch({ cookie });
  class BrowserEventSource extends EventSource {
    constructor(target: string | URL, init?: EventSourceInit) {
      super(target, { ...init, fetch: net.fetch });
    }
  }
  const url = `${baseUrl}/api/trpc`;
  const trpc = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url, transformer: superjson, EventSource: BrowserEventSource }),
        false: httpBatchLink({ url, transformer: superjson, fetch: net.fetch, maxItems: MAX_BATCH_SIZE }),
      }),
    ],
  });
  const client: Client = { net, unsubscribe: () => undefined, hello: false, progress: new Map(), completed: new Map() };
  const subscription = trpc.live.stream.subscribe(undefined, {
    onData(envelope) {
      // Tracked frames arrive as { id, data }; control frames (hello) as the message itself.
      const raw = envelope as LiveMessage | { id: string; data: LiveMessage };
      const message = 'kind' in raw ? raw : raw.data;
      if (message.kind === 'hello') client.hello = true;
      else if (message.kind === 'progress') {
        const list = client.progress.get(message.key) ?? [];
        list.push([message.current, message.total, Date.now()]);
        client.progress.set(message.key, list);
      } else if (message.kind === 'complete') client.completed.set(message.key, Date.now());
    },
    onError(error) {
      console.warn(`[coalescing clients] stream stopped: ${error.message}`);
    },
  });
  client.unsubscribe = () => subscription.unsubscribe();
  return client;
}

serveParent(async (message) => {
  switch (message.type) {
    case 'start': {
      const emails = message.emails as string[];
      for (let i = 0; i < emails.length; i += 5) {
        const cookies = await Promise.all(emails.slice(i, i + 5).map((email) => signIn(message.baseUrl, email, message.password)));
        for (const cookie of cookies) clients.push(connect(message.baseUrl, cookie));
      }
      return { type: 'started' };
    }
    case 'state': {
      const key = message.key as string | undefined;
      return {
        type: 'state',
        hello: clients.filter((c) => c.hello).length,
        completed: key ? clients.filter((c) => c.completed.has(key)).length : 0,
        final: key
          ? clients.filter((c) => {
              const last = c.progress.get(key)?.at(-1);
              return last !== undefined && last[0] === last[1];
            }).length
          : 0,
        bytesIn: clients.map((c) => c.net.traffic().bytesIn),
      };
    }
    case 'frames': {
      const key = message.key as string;
      return { type: 'frames', frames: clients.map((c) => c.progress.get(key) ?? []), completedAt: clients.map((c) => c.completed.get(key) ?? NaN) };
    }
    case 'stop':
      for (const client of clients) {
        client.unsubscribe();
        client.net.destroy();
      }
      return { type: 'stopped' };
    default:
      throw new Error(`unknown message ${String(message.type)}`);
  }
});
