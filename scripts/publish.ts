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
 * a script has no local clients to fall back to.
 */
import type { Hub, LiveAction } from 'trpc-live/core';
import { getDb } from '../src/server/db/connection';
import type { NotificationKind } from '../src/server/data/notifications';
import { adjustStock } from '../src/server/data/products';
import { createAppHub, setHub } from '../src/server/hub';
import { notify } from '../src/server/notify';
import { resources, type ResourceName } from '../src/trpc/resources';

const ACTIONS: readonly LiveAction[] = ['created', 'updated', 'deleted', 'changed'];
const USAGE = `usage: publish.ts invalidate <tenant> <resource> [id] [action]
       publish.ts restock <tenant> <productId> <delta>
       publish.ts notify <tenant> <kind> <title> [body]`;
const KINDS = ['order.created', 'order.paid', 'import.done', 'import.failed', 'stock.low'] as const satisfies readonly NotificationKind[];

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
      const receipt = await hub.invalidate(tenant, {
        resource: resourceName(resource),
        action: action as LiveAction,
        ...(id ? { id } : {}),
      });
      return receipt.cursor;
    }
    case 'restock': {
      const [productId, deltaText] = rest;
      const delta = Number(deltaText);
      if (!productId || !Number.isInteger(delta)) fail(USAGE);
      const product = adjustStock(getDb(), tenant, productId, delta);
      const receipt = await hub.invalidate(tenant, { resource: 'products', id: product.id, action: 'updated' });
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
  const backend = hub.backend as typeof hub.backend & { ready?: (ms: number) => Promise<boolean> };
  if (backend.ready && !(await backend.ready(5000))) {
    console.error(`[publish] cannot reach Redis: ${hub.backend.health?.().detail ?? 'unknown error'}`);
    await hub.close();
    process.exit(1);
  }
  let code = 0;
  try {
    console.log(`[publish] ${await run(hub, process.argv.slice(2))}`);
    // Redis went away mid-run: what was published was kept for forwarding, which this process will not live to do.
    const state = (hub.backend as { state?: () => { forwardPending: number } }).state?.();
    if (state?.forwardPending) {
      console.error(`[publish] Redis went away: ${state.forwardPending} signal(s) were not delivered`);
      code = 1;
    }
  } finally {
    await hub.close();
  }
  process.exit(code);
}

main().catch((error: unknown) => {
  console.error('[publish] failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
