/**
 * Most calls in one batched tRPC request. The server refuses a longer batch
 * with 400 BAD_REQUEST before running any of it (`maxBatchSize` of the
 * handler); the app's batch links split longer ones (`maxItems`), so the two
 * must come from here. A page issues at most 3 queries at once (the orders
 * page: orders.list, dashboard.stats, products.list) and the live
 * invalidator refetches a tab's active queries in one batch, so 10 leaves
 * room. Before the limit, one GET of 100 `dashboard.stats` calls held the
 * server for 7.4 s (issue 15).
 */
export const MAX_BATCH_SIZE = 10;
