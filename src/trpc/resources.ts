import { defineResources, defineTopics, liveEvent, liveJob } from 'trpc-live/shared';

/**
 * The app's live resources: which queries read each one. Isomorphic — the
 * server types `.meta({ invalidates })` with it, the client matches queries.
 * Ids are strings unless a resource says `id: 'number'`. Paths, `by` fields
 * and id types are checked against the router in `liveResources.ts`.
 *
 * `push: 'scope'` (issue 17): after a change the server computes the query
 * once per tenant and pushes the result to every stream that watches it.
 * Each of these reads only the tenant (`ctx.session.tenantId`) and its input,
 * never the user or the role: orders, products, dashboard, notifications
 * (stored for every user of the tenant, no per-user read state) and imports
 * (who started an import is data, the same for every reader).
 * test/server/pushScope.test.ts calls each with an admin and a staff user
 * of one tenant and expects equal answers. `dashboard.stats` is bound as a
 * query without `by` rather than a dependent: the same matching (every
 * change of the resource), and a binding can say `push`.
 */
export const resources = defineResources({
  orders: {
    queries: [
      { path: 'orders.list', push: 'scope' },
      { path: 'orders.byId', by: 'id', push: 'scope' },
      { path: 'dashboard.stats', push: 'scope' },
    ],
  },
  products: {
    queries: [
      { path: 'products.list', push: 'scope' },
      { path: 'products.byId', by: 'id', push: 'scope' },
      // Stock figures on an order page are product names and prices: no binding there.
      { path: 'dashboard.stats', push: 'scope' },
    ],
  },
  notifications: {
    queries: [{ path: 'notifications.list', push: 'scope' }],
  },
  imports: {
    queries: [
      { path: 'imports.list', push: 'scope' },
      { path: 'imports.byId', by: 'id', push: 'scope' },
    ],
  },
});

/** The registry's type (what `LiveMeta` is typed with). */
export type Resources = typeof resources;

export type ResourceName = Extract<keyof Resources, string>;

/** What a notification event carries (toasts); `createdAt` in ms since the epoch. */
export type NotificationEvent = {
  id: string;
  kind: string;
  title: string;
  body: string;
  link: string | null;
  createdAt: number;
};

/** Progress of an import run, after each chunk. */
export type ImportProgress = { importId: string; imported: number; failed: number };

/** The outcome of an import run. */
export type ImportResult = { importId: string; processed: number; imported: number; failed: number; total: number };

/**
 * The event topics and jobs the server publishes outside procedures and the
 * pages read, declared once for both ends: `notifications` events (instant
 * lane) and `imports` runs, keyed `imports.<id>` (progress on the coalesced
 * lane, completion on the instant one).
 */
export const topics = defineTopics({
  notifications: liveEvent<NotificationEvent>(),
  imports: liveJob<ImportProgress, ImportResult>(),
});

/** The topics' type (what `createLive` and the publishers are typed with). */
export type Topics = typeof topics;
