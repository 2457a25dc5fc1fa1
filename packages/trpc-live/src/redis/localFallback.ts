import {
  createMemoryReplayLog,
  type PublishedEntry,
  type PublishRequest,
  type ReplayLogOptions,
  type ReplayResult,
  type ReplayStore,
} from '../core/index.ts';
import type { Delivery } from './delivery.ts';
import { toEntry } from './entryCodec.ts';

/**
 * Separates the origin from a local epoch's number: `<origin>-<n>`. Shared
 * epochs and origins are `newEpoch()` strings, which never contain it.
 */
const LOCAL_EPOCH_MARK = '-';
const LOCAL_EPOCH_RE = /^([0-9a-z]{1,30})-[0-9]{1,8}$/;

/**
 * The origin whose local fallback history `epoch` is, or `undefined`. Its
 * seqs are that origin's serials (a local copy keeps its publish's serial as
 * its seq), so a cursor in it says which of the origin's signals the client
 * holds, wherever it reconnects.
 */
export function localEpochOrigin(epoch: string): string | undefined {
  return LOCAL_EPOCH_RE.exec(epoch)?.[1];
}

/** What {@link LocalFallback} needs from its backend. */
export interface LocalFallbackOptions {
  /** This backend's identity: local epochs are named after it. */
  readonly origin: string;
  readonly delivery: Delivery;
  readonly replay: ReplayLogOptions | undefined;
  readonly now: () => number;
}

/**
 * The history signals go to while Redis is unreachable: delivered to this
 * instance's clients only, under a local epoch `<origin>-<n>` whose seqs are
 * the publishes' serials. Each join starts a fresh one (receipts given past
 * their deadline name it before any fallback).
 */
export class LocalFallback {
  private histories = 0;
  private history: { readonly epoch: string; readonly log: ReplayStore };
  private publishCount = 0;
  /** Signals were delivered locally since the last join. */
  private deliveredSinceJoin = false;
  /** Highest serial delivered locally: its copies in Redis must never be replayed (see SINCE_SCRIPT). */
  private highestSerial = 0;

  constructor(private readonly options: LocalFallbackOptions) {
    this.history = this.fresh();
  }

  /** The local epoch now. */
  get epoch(): string {
    return this.history.epoch;
  }
  /** Publishes delivered locally only, since the backend was created. */
  get publishes(): number {
    return this.publishCount;
  }
  /** Highest serial delivered locally so far. */
  get lastSerial(): number {
    return this.highestSerial;
  }

  /** Delivers a publish to this instance's clients under the local epoch (its seq is its serial). */
  publish(request: PublishRequest, serial: number): PublishedEntry {
    const entry = this.receipt(request, serial);
    this.history.log.append(entry);
    this.publishCount++;
    this.deliveredSinceJoin = true;
    this.highestSerial = Math.max(this.highestSerial, serial);
    this.options.delivery.deliver(entry);
    return entry;
  }

  /** The position `publish` would give this request (a receipt given before Redis answered names it). */
  receipt(request: PublishRequest, serial: number): PublishedEntry {
    return toEntry(request, this.epoch, serial, { origin: this.options.origin, serial });
  }

  /** Replay from the local history (see `ReplayStore.since`). */
  since(scope: string, epoch: string, afterSeq: number): ReplayResult {
    return this.history.log.since(scope, epoch, afterSeq);
  }

  /** A join: the next fallback gets a fresh history. */
  renew(): void {
    this.history = this.fresh();
  }

  /** Whether signals were delivered locally since the last call (the join's reset covers them). */
  takeDelivered(): boolean {
    const delivered = this.deliveredSinceJoin;
    this.deliveredSinceJoin = false;
    return delivered;
  }

  private fresh(): { epoch: string; log: ReplayStore } {
    // Named after the origin (see `localEpochOrigin`): any instance can tell whose serials its seqs are.
    const epoch = `${this.options.origin}${LOCAL_EPOCH_MARK}${++this.histories}`;
    return { epoch, log: createMemoryReplayLog(epoch, { ...this.options.replay, now: this.options.now }) };
  }
}
