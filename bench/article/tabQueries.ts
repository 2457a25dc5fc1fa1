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
  /** JSON of the data it holds (as of the last write the queue settled). */
  json: string;
  first: boolean;
}

/** A data write logged with its time, whose `changed` flag (and, pushed, digest) are still to be computed from `data`. */
interface PendingWrite {
  readonly state: HeldState;
  readonly update: ObserverUpdate;
  readonly data: unknown;
}

/** What a {@link DigestQueue} did: writes settled while the process was idle, and those settled on the spot (queue full, or a drain). */
export interface DigestQueueStats {
  /** Writes settled in idle slices (off the simulated browsers' timing path). */
  idle: number;
  /** Writes settled because the queue reached its bound (on the timing path: the process was busy for long). */
  forced: number;
  /** Writes settled by {@link DigestQueue.drain} (after the measured phases, or at stop). */
  drained: number;
  /** Most writes waiting at once. */
  peak: number;
}

/**
 * The cost of logging data writes, kept off the simulated browsers' timing
 * path. Each write is logged at once with the time it was held (what every
 * time figure reads) and the data object TanStack dispatched; its JSON (for
 * the `changed` flag: did the data differ from what the query held?) and,
 * for pushed data, the digest of that JSON (the freshness oracle's: what the
 * data oracle compares with, reflects.ts) are computed later, in FIFO order,
 * from that same object, which nobody mutates (TanStack and trpc-live build
 * new objects for new data). Later means: in slices of at most `sliceMs`
 * while the process is idle (a timer that fired on time), or, when more
 * than `maxPending` writes wait (memory), the oldest one at each new write
 * (as every write was before), or all of them at {@link drain} (at each
 * phase's snapshot, so a phase's users' CPU holds its own writes' digests,
 * and before the logs are read). The digests are
 * exactly those computed synchronously (the same function of the same
 * data); only when the work runs differs.
 *
 * Before 2026-12-07 every write was JSON.stringify'd and every pushed one
 * sha1-digested synchronously in the cache listener: 19% of the users'
 * process CPU in (d)'s heavy phase (CPU profile, beside other work), spent
 * inside the burst of frames each change sends to the tenant's 10 browsers,
 * so inside the times measured.
 */
export class DigestQueue {
  readonly stats: DigestQueueStats = { idle: 0, forced: 0, drained: 0, peak: 0 };
  private pending: PendingWrite[] = [];
  private head = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastTick = 0;

  constructor(
    private readonly options: {
      /** Bound on waiting writes (each keeps its data object alive). @default 20_000 */
      maxPending?: number;
      /** Longest idle slice. @default 2 */
      sliceMs?: number;
      /** How often the idle check runs. @default 20 */
      tickMs?: number;
      /** A tick later than this (ms) means the process is busy: no slice then. @default 2 */
      lateMs?: number;
      /** false: no timer (tests drive {@link idleSlice} themselves). @default true */
      timer?: boolean;
    } = {},
  ) {
    if (options.timer !== false) {
      const tickMs = options.tickMs ?? 20;
      this.lastTick = performance.now();
      this.timer = setInterval(() => {
        const now = performance.now();
        const late = now - this.lastTick - tickMs;
        this.lastTick = now;
        if (late <= (options.lateMs ?? 2)) this.idleSlice();
      }, tickMs);
      this.timer.unref();
    }
  }

  /** Writes waiting. */
  get size(): number {
    return this.pending.length - this.head;
  }

  /** Logs a write (its update is already in the query's log, with `changed` 1 until settled). */
  add(write: PendingWrite): void {
    this.pending.push(write);
    const size = this.size;
    if (size > this.stats.peak) this.stats.peak = size;
    // Full: the oldest waiting write is settled now, one per write, as every write was before (no stall of a big batch).
    const max = this.options.maxPending ?? 20_000;
    if (size > max) this.settle(size - max, 'forced');
  }

  /** Settles waiting writes for at most `sliceMs` (one idle slice). */
  idleSlice(): void {
    const end = performance.now() + (this.options.sliceMs ?? 2);
    while (this.size && performance.now() < end) this.settle(16, 'idle');
  }

  /** Settles every waiting write (call before reading the logs). */
  drain(): void {
    this.settle(this.size, 'drained');
  }

  /** Stops the idle timer (after a drain nothing waits). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private settle(count: number, how: 'idle' | 'forced' | 'drained'): void {
    const stop = Math.min(this.pending.length, this.head + count);
    for (; this.head < stop; this.head++) {
      const { state, update, data } = this.pending[this.head]!;
      // Compared as JSON: structural sharing keeps references only for plain objects, and every row here has Dates.
      const text = JSON.stringify(data);
      update[2] = text === state.json ? 0 : 1;
      if (update[0] === PUSHED) update[3] = dataDigest(text);
      state.json = text;
      this.stats[how]++;
    }
    if (this.head === this.pending.length) {
      this.pending = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * Mounts an observer for each query of a tab and logs every data write, as
 * TanStack dispatches it: a fetch's result, as [fetch start, held at,
 * changed], or a write by `setQueryData` (pushed results: TanStack marks such
 * a write `manual`) as [PUSHED, held at, changed, digest of its JSON]. Writes
 * are observed on the query cache, in the same synchronous batch in which the
 * query's observer gets the data: the time is taken there; `changed` and the
 * digest are computed by `digests` (see {@link DigestQueue}; without one, at
 * once, as before 2026-12-07). `onFirstData` is called once per query, at
 * its first data. Returns the stop function.
 */
export function observeTabQueries(queryClient: QueryClient, queries: readonly ObservedQuery[], onFirstData: () => void, digests?: DigestQueue): () => void {
  const held = new Map<string, HeldState>();
  const stops: Array<() => void> = [];
  const queue = digests ?? new DigestQueue({ timer: false, maxPending: 0 });
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
      const update: ObserverUpdate = event.action.manual ? [PUSHED, Date.now(), 1] : [state.landingStart, Date.now(), 1];
      state.updates.push(update);
      queue.add({ state, update, data: event.action.data });
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
