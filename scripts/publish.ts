/**
 * Publishes live signals from outside the web server (a cron job, a
 * background worker, an operator's shell) through the same typed hub helpers
 * the app uses. With `LIVE_REDIS_URL` set, the signals reach the clients of
 * every app instance sharing that Redis; the script itself opens no HTTP
 * server and does not subscribe.
 *
 *   LIVE_REDIS_URL=redis://127.0.0.1:6379 DATA_DIR=./data npm run live:publish -- <command> …
 *
 * Commands:
 *   invalidate <tenant> <resource> [id] [action]   tell clients a resource (or one id of it) changed
 *   restock <tenant> <productId> <delta>           change a product's stock in the database, then invalidate it
 *   notify <tenant> <kind> <title> [body]          store a notification and push it (toast + list)
 *
 * Exits 1 (and publishes nothing) when Redis cannot be reached within 5 s:
 * a script has no local clients to fall back to. Once it published, it
 * waits up to 5 s more for Redis to hold every signal (a publish Redis did
 * not answer within its 80 ms deadline stays in flight, and one that failed
 * is forwarded when Redis is back); past that it exits 1 naming how many
 * signals may not have reached any client. So it either delivers or fails
 * loudly, within about 10 s at most.
 */
import type { Hub, LiveAction } from 'trpc-live/core';
import { getDb } from '../src/server/db/database';
import type { NotificationKind } from '../src/server/data/notifications';
import { adjustStock } from '../src/server/data/products';
import type { RedisBackend } from 'trpc-live/redis';
import { createAppHub, setHub } from '../src/server/appHub';
import { notify } from '../src/server/notify';
import { resources, type ResourceName } from '../src/trpc/resources';
import { live } from '../src/server/trpc/init';
import { pathToFileURL } from 'node:url';

/** How long the script waits for Redis: to join before publishing, then to confirm what it published. */
const WAIT_MS = 5000;
const ACTIONS: readonly LiveAction[] = ['created', 'updated', 'deleted', 'changed'];
const USAGE = `usage: publish.ts invalidate <tenant> <resource> [id] [action]
       publish.ts restock <tenant> <productId> <delta>
       publish.ts notify <tenant> <kind> <title> [body]`;
const KINDS = ['order.created', 'order.paid', 'import.done', 'import.failed', 'stock.low'] as const satisfies readonly NotificationKind[];

/**
 * What this script publishes besides notifications (server/notify.ts): any resource, named on the
 * command line. `npm run live:check` lists it (it loads this module with --import; main() runs only
 * when the file is the process's entry).
 */
export const scriptPublisher = live.publisher('scripts/publish.ts', { invalidates: Object.keys(resources) as ResourceName[] });

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function resourceName(value: string | undefined): ResourceName {
  if (!value || !Object.hasOwn(resources, value)) fail(`unknown resource "${value}"; one of: ${Object.keys(resources).join(', ')}`);
  return value as ResourceName;
}

async function run(hub: Hub, [command, tenant, ...rest]: string[]): Promise<string> {
  if (!tenant) fail(USAGE);
  switch (command) {
    case 'invalidate': {
      const [resource, id, action = 'changed'] = rest;
      if (!ACTIONS.includes(action as LiveAction)) fail(`action must be one of ${ACTIONS.join(', ')}`);
      const receipt = await scriptPublisher.withHub(hub).invalidate(tenant, resourceName(resource), id || undefined, { action: action as LiveAction });
      return receipt.cursor;
    }
    case 'restock': {
      const [productId, deltaText] = rest;
      const delta = Number(deltaText);
      if (!productId || !Number.isInteger(delta)) fail(USAGE);
      const product = adjustStock(getDb(), tenant, productId, delta);
      const receipt = await scriptPublisher.withHub(hub).invalidate(tenant, 'products', product.id, { action: 'updated' });
      return `${receipt.cursor} (${product.name}: ${product.stock} in stock)`;
    }
    case 'notify': {
      const [kind, title, body = ''] = rest;
      if (!title || !KINDS.includes(kind as NotificationKind)) fail(`${USAGE}\nkind: one of ${KINDS.join(', ')}`);
      const notification = await notify(getDb(), hub, tenant, { kind: kind as NotificationKind, title, body, link: null });
      return notification.id;
    }
    default:
      fail(USAGE);
  }
}

async function main() {
  if (!process.env.LIVE_REDIS_URL) {
    console.warn('[publish] LIVE_REDIS_URL is not set: signals stay in this process and reach no client');
  }
  const hub = createAppHub({ subscribe: false });
  setHub(hub);
  const backend = hub.backend as typeof hub.backend & Partial<Pick<RedisBackend, 'ready' | 'settled' | 'state'>>;
  if (backend.ready && !(await backend.ready(WAIT_MS))) {
    console.error(`[publish] cannot reach Redis: ${hub.backend.health?.().detail ?? 'unknown error'}`);
    await hub.close();
    process.exit(1);
  }
  let code = 0;
  try {
    console.log(`[publish] ${await run(hub, process.argv.slice(2))}`);
    // A publish returns within its deadline even when Redis did not answer: wait until Redis holds
    // every signal (or forwarding them failed), since this process has no client of its own.
    if (backend.settled && !(await backend.settled(WAIT_MS))) {
      const state = backend.state?.();
      const unsent = (state?.inFlight ?? 0) + (state?.forwardPending ?? 0);
      console.error(
        `[publish] Redis did not confirm ${unsent} signal(s) within ${WAIT_MS / 1000} s (${hub.backend.health?.().detail ?? 'unknown error'}); they may not have reached any client`,
      );
      code = 1;
    }
  } finally {
    await hub.close();
  }
  process.exit(code);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error('[publish] failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
