import type { LiveLogger } from '../shared/logger.ts';
import type { PublishRequest } from '../core/index.ts';
import { isReplyError, messageOf } from './redisErrors.ts';

/** A publish delivered only locally, waiting to be sent to Redis. */
export interface Forward {
  readonly request: PublishRequest;
  readonly serial: number;
}

/** What {@link OutageForwarding} needs from its backend. */
export interface OutageForwardingOptions {
  /** Most distinct slots kept (see `RedisBackendOptions.maxForward`). */
  readonly maxForward: number;
  /** Before any copy is written: marks the local copies as possible twins (see `TwinMarks.ensure`); `false` if Redis failed. */
  readonly beforeSend: () => Promise<boolean>;
  /** Sends one publish to Redis (which skips an identity it holds already). */
  readonly send: (forward: Forward) => Promise<unknown>;
  /** Makes every instance reset its clients. */
  readonly publishGap: () => Promise<void>;
  /** Redis failed a send: it is unreachable. */
  readonly onUnreachable: (why: string) => void;
  /** The queue was sent (the backend reports its state). */
  readonly onSent: () => void;
  readonly logger: Pick<LiveLogger, 'warn'> | null;
}

/** Forwards are sent this many at a time. */
const CHUNK = 256;

/**
 * What was published during an outage (delivered locally only), kept to be
 * sent to Redis when it returns so every instance gets it: the latest per
 * (scope, key), each unique signal in its own slot, at most `maxForward`
 * (past that the oldest is dropped and every instance resets its clients
 * instead).
 */
export class OutageForwarding {
  /** Latest per (scope, key), by slot; sent in serial order. */
  private readonly slots = new Map<string, Forward>();
  private overflowed = false;

  constructor(private readonly options: OutageForwardingOptions) {}

  /** Publishes waiting to be forwarded. */
  get size(): number {
    return this.slots.size;
  }

  /** Queues a publish delivered only locally (or whose fate Redis did not tell). */
  remember(request: PublishRequest, serial: number): void {
    // Unique signals (events) each keep their own slot; idempotent ones the latest per key.
    const slot = `${request.scope}\u0000${request.key ?? `#${serial}`}`;
    this.slots.delete(slot);
    this.slots.set(slot, { request, serial });
    if (this.slots.size > this.options.maxForward) {
      this.slots.delete(this.slots.keys().next().value!);
      this.overflowed = true;
    }
  }

  /**
   * Publishes what was delivered only locally during the outage, so every
   * instance gets it, in serial order (Redis skips any it already holds).
   * Returns false when Redis went away again (the rest stays queued).
   */
  async flush(): Promise<boolean> {
    if (!(await this.options.beforeSend())) return false;
    if (!this.slots.size && !this.overflowed) return true;
    while (this.slots.size) {
      // Publishes made while forwarding were delivered locally too.
      if (!(await this.options.beforeSend())) return false;
      const pending = [...this.slots.values()].sort((x, y) => x.serial - y.serial);
      this.slots.clear();
      for (let i = 0; i < pending.length; i += CHUNK) {
        if (!(await this.sendChunk(pending.slice(i, i + CHUNK), pending.slice(i + CHUNK)))) return false;
      }
    }
    if (this.overflowed) {
      // Some were dropped from the queue: every instance's clients reset instead.
      this.overflowed = false;
      await this.options.publishGap().catch((error: unknown) => this.options.onUnreachable(messageOf(error)));
    }
    this.options.onSent();
    return true;
  }

  /** Sends `chunk`; when Redis went away, requeues it (what failed) and `rest`, and returns false. */
  private async sendChunk(chunk: Forward[], rest: Forward[]): Promise<boolean> {
    const results = await Promise.allSettled(chunk.map((forward) => this.options.send(forward)));
    // A request Redis refused (a reply error) would be refused again: it is dropped and logged.
    let unreachable: unknown = null;
    const failed = chunk.filter((_, j) => {
      const result = results[j]!;
      if (result.status === 'fulfilled') return false;
      if (!isReplyError(result.reason)) {
        unreachable = result.reason;
        return true;
      }
      this.options.logger?.warn(`[live:redis] dropped a forwarded signal Redis refused: ${messageOf(result.reason)}`);
      return false;
    });
    if (!failed.length) return true;
    // Redis went away again: keep the rest for the next recovery.
    for (const { request, serial } of [...failed, ...rest]) this.remember(request, serial);
    this.options.onUnreachable(messageOf(unreachable));
    return false;
  }
}
