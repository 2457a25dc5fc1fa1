import { defineResources, defineTopics, liveEvent, liveJob } from 'trpc-live/shared';

/**
 * The app's live resources: which queries read each one. Isomorphic — the
 * server types `.meta({ invalidates })` with it, the client matches queries.
 * Ids are strings unless a resource says `id: 'number'`. Paths, `by` fields
 * and id types are checked against the router in `liveResources.ts`.
 */
export const resources = defineResources({
  orders: {
    queries: [{ path: 'orders.list' }, { path: 'orders.byId', by: 'id' }],
    dependents: ['dashboard.stats'],
  },
  products: {
    queries: [{ path: 'products.list' }, { path: 'products.byId', by: 'id' }],
    // Stock figures on an order page are product names and prices: no dependent there.
    dependents: ['dashboard.stats'],
  },
  notifications: {
    queries: [{ path: 'notifications.list' }],
  },
  imports: {
    queries: [{ path: 'imports.list' }, { path: 'imports.byId', by: 'id' }],
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
