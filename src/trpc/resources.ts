import { defineResources } from 'trpc-live/shared';

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
