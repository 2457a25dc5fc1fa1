import { QueryObserver, type QueryClient, type QueryFunctionContext } from '@tanstack/react-query';
import { dataDigest } from './digest';
import { PUSHED, type ObserverUpdate } from './reflects';

/** One query a tab keeps observed, and the log its data writes go to. */
export interface ObservedQuery {
  /** The query's options as the page builds them (`trpc.x.queryOptions(...)`). */
  readonly options: { readonly queryKey: readonly unknown[] } & object;
  /** Where each data write is appended. */
  readonly updates: ObserverUpdate[];
}

interface HeldState {
  readonly updates: ObserverUpdate[];
  /** Start of the fetch whose data the query is about to hold (a cancelled fetch never lands). */
  landingStart: number;
  /** JSON of the data it holds. */
  json: string;
  first: boolean;
}

/**
 * Mounts an observer for each query of a tab and logs every data write, as
 * TanStack dispatches it: a fetch's result, as [fetch start, held at,
 * changed], or a write by `setQueryData` (pushed results: TanStack marks such
 * a write `manual`) as [PUSHED, held at, changed, digest of its JSON]. Writes
 * are observed on the query cache, in the same synchronous batch in which the
 * query's observer gets the data. `onFirstData` is called once per query, at
 * its first data. Returns the stop function.
 */
export function observeTabQueries(queryClient: QueryClient, queries: readonly ObservedQuery[], onFirstData: () => void): () => void {
  const held = new Map<string, HeldState>();
  const stops: Array<() => void> = [];
  for (const { options, updates } of queries) {
    const inner = (options as unknown as { queryFn: (ctx: QueryFunctionContext) => Promise<unknown> }).queryFn;
    const state: HeldState = { updates, landingStart: 0, json: '', first: true };
    const observer = new QueryObserver(queryClient, {
      ...options,
      queryKey: options.queryKey,
      queryFn: async (ctx: QueryFunctionContext) => {
        const started = Date.now();
        const data = await inner(ctx);
        if (!ctx.signal.aborted) state.landingStart = started;
        return data;
      },
    } as never);
    held.set(observer.getCurrentQuery().queryHash, state);
    stops.push(observer.subscribe(() => undefined));
  }
  stops.push(
    queryClient.getQueryCache().subscribe((event) => {
      if (event.type !== 'updated' || event.action.type !== 'success') return;
      const state = held.get(event.query.queryHash);
      if (!state) return;
      const heldAt = Date.now();
      // Compared as JSON: structural sharing keeps references only for plain objects, and every row here has Dates.
      const text = JSON.stringify(event.action.data);
      const changed = text === state.json ? 0 : 1;
      state.updates.push(event.action.manual ? [PUSHED, heldAt, changed, dataDigest(text)] : [state.landingStart, heldAt, changed]);
      state.json = text;
      if (state.first) {
        state.first = false;
        onFirstData();
      }
    }),
  );
  return () => {
    for (const stop of stops) stop();
  };
}
