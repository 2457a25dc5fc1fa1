import type { QueryClient } from '@tanstack/react-query';
import type { DomainSignal, LiveMessage } from '../core/signal';
import type { ResourceRegistry } from '../trpc/registry';
import { createQueryMatcher, type ChangedKey } from './queryMatcher';

/** Options of {@link createLiveInvalidator}. */
export interface LiveInvalidatorOptions {
  queryClient: QueryClient;
  registry: ResourceRegistry;
  /**
   * Schedules a batch: signals arriving before it runs are applied together.
   * @default (fn) => setTimeout(fn, 0)
   */
  schedule?: (fn: () => void) => void;
}

/** A listener for every message (progress bars, toasts, inspectors, other tabs). */
export type LiveMessageListener = (message: LiveMessage) => void;

/**
 * Turns live messages into precise TanStack Query invalidations.
 *
 * Exactly once: every key remembers the newest sequence already applied,
 * whether it came from the stream or from a mutation response's fence, so
 * the same change never triggers a second refetch.
 */
export class LiveInvalidator {
  private readonly matcher;
  private readonly schedule: (fn: () => void) => void;
  private readonly applied = new Map<string, number>();
  private epoch: string | null = null;
  private pending: ChangedKey[] = [];
  private pendingReset = false;
  private scheduled = false;
  private readonly listeners = new Set<LiveMessageListener>();
  /** Connection id from the stream's hello (for pause/resume). */
  connectionId: string | null = null;
  /** Highest cursor seen on the stream (`epoch:seq`). */
  lastCursor: string | null = null;

  constructor(private readonly options: LiveInvalidatorOptions) {
    this.matcher = createQueryMatcher(options.registry);
    this.schedule = options.schedule ?? ((fn) => void setTimeout(fn, 0));
  }

  /** Subscribes to every message received; returns an unsubscribe function. */
  subscribe(listener: LiveMessageListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Handles one message from the live stream. */
  receive(message: LiveMessage, cursor?: string | null): void {
    if (cursor) this.lastCursor = cursor;
    switch (message.kind) {
      case 'hello':
        this.connectionId = message.connectionId;
        this.setEpoch(message.epoch);
        break;
      case 'reset':
        this.pendingReset = true;
        this.flushSoon();
        break;
      case 'invalidate':
        this.change(message.resource, message.id, message.seq);
        break;
      case 'batch':
        for (const event of message.events) this.receiveDomain(event, message.seq);
        break;
      default:
        break;
    }
    for (const listener of this.listeners) listener(message);
  }

  /**
   * Applies what a mutation response says it published (read-your-writes):
   * invalidated now, and the stream's copy of the same change is skipped.
   */
  receiveFence(keys: ReadonlyArray<{ resource: string; id?: string; cursor: string }>): void {
    for (const key of keys) {
      const [epoch, seqText] = key.cursor.split(':');
      const seq = Number(seqText);
      if (!epoch || !Number.isSafeInteger(seq)) continue;
      this.setEpoch(epoch);
      this.change(key.resource, key.id, seq);
    }
  }

  private receiveDomain(event: DomainSignal, seq: number): void {
    if (event.kind === 'invalidate') this.change(event.resource, event.id, seq);
  }

  private setEpoch(epoch: string): void {
    // Sequences of another history are not comparable: forget what was applied.
    if (this.epoch !== epoch) {
      this.epoch = epoch;
      this.applied.clear();
    }
  }

  private change(resource: string, id: string | undefined, seq: number): void {
    const key = id === undefined ? resource : `${resource}\u0000${id}`;
    const seen = this.applied.get(key);
    if (seen !== undefined && seen >= seq) return;
    this.applied.set(key, seq);
    this.pending.push(id === undefined ? { resource } : { resource, id });
    this.flushSoon();
  }

  private flushSoon(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }

  /** Applies everything pending in one invalidation pass. */
  flush(): void {
    this.scheduled = false;
    const { queryClient } = this.options;
    if (this.pendingReset) {
      this.pendingReset = false;
      this.pending = [];
      void queryClient.invalidateQueries();
      return;
    }
    const changes = this.pending;
    if (!changes.length) return;
    this.pending = [];
    void queryClient.invalidateQueries({
      predicate: (query) => this.matcher.matches(query.queryKey, changes),
    });
  }
}

/** Creates a {@link LiveInvalidator}. */
export function createLiveInvalidator(options: LiveInvalidatorOptions): LiveInvalidator {
  return new LiveInvalidator(options);
}
