import { defineResources } from '../live/trpc/registry';

/**
 * The app's live resources: which queries read each one. Isomorphic — the
 * server types `.meta({ invalidates })` with it, the client matches queries.
 */
export const resources = defineResources({
  orders: {
    queries: [{ path: 'orders.list' }, { path: 'orders.byId', by: 'id' }],
  },
  products: {
    queries: [{ path: 'products.list' }],
  },
});

export type ResourceName = Extract<keyof typeof resources, string>;
