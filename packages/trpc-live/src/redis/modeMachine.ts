import type { LiveLogger } from '../shared/logger.ts';
import type { BackendHealth } from '../core/index.ts';
import type { RedisBackendMode } from './options.ts';

/** What {@link ModeMachine} needs from its backend. */
export interface ModeMachineOptions {
  readonly now: () => number;
  readonly logger: Pick<LiveLogger, 'info' | 'warn'> | null;
  /** Called after every change of mode (the backend reports its state). */
  readonly onChange: () => void;
}

/**
 * Where the backend stands (see {@link RedisBackendMode}) and why: the
 * mode, when it began, the last connection error, the outages counted, and
 * who waits for the shared history. Transitions:
 *
 *     connecting ──fall──▶ local ──join──▶ shared ──fall──▶ local …
 *     connecting ──join──▶ shared          any ──close──▶ closed (final)
 *
 * It decides nothing about Redis itself: the backend tells it what happened
 * (a fault, a join, a close), and it records, logs one line per change (not
 * one per retry) and reports.
 */
export class ModeMachine {
  private current: RedisBackendMode = 'connecting';
  private began: number;
  private lastError: string | null = null;
  private outageCount = 0;
  private readyWaiters: Array<(joined: boolean) => void> = [];

  constructor(private readonly options: ModeMachineOptions) {
    this.began = options.now();
  }

  /** Where the backend stands now. */
  get mode(): RedisBackendMode {
    return this.current;
  }
  /** Joined to the shared history. */
  get shared(): boolean {
    return this.current === 'shared';
  }
  /** Closed for good. */
  get closed(): boolean {
    return this.current === 'closed';
  }
  /** When the current mode began. */
  get since(): number {
    return this.began;
  }
  /** Last connection or command error (cleared by a join). */
  get error(): string | null {
    return this.lastError;
  }
  /** Times the backend fell back from shared to local. */
  get outages(): number {
    return this.outageCount;
  }

  /** A connection reported an error: kept for health and the next fall, not logged (ioredis retries every few ms). */
  noteError(message: string): void {
    this.lastError = message;
  }

  /**
   * Redis became unreachable (or stopped answering): shared or connecting
   * becomes local, delivering under `localEpoch`. Returns `false` once closed
   * (nothing to do), `true` otherwise, also when already local.
   */
  fall(why: string, localEpoch: string): boolean {
    this.lastError = why;
    if (this.current === 'closed') return false;
    if (this.current === 'shared') {
      this.outageCount++;
      // `localEpoch` is the fresh history the last join made (publish receipts past their deadline name it).
      this.enter('local');
      this.options.logger?.warn(
        `[live:redis] Redis unreachable (${why}): delivering to this instance's clients only, under local epoch ${localEpoch}; retrying`,
      );
      this.options.onChange();
    } else if (this.current === 'connecting') {
      this.enter('local');
      this.options.logger?.warn(`[live:redis] cannot reach Redis at startup (${why}): delivering locally meanwhile; retrying`);
      this.options.onChange();
    }
    return true;
  }

  /** The shared history `epoch` is joined. Returns whether this ends an outage; a no-op once closed. */
  join(epoch: string): boolean {
    if (this.current === 'closed') return false;
    const rejoined = this.current === 'local';
    this.enter('shared');
    this.lastError = null;
    const logger = this.options.logger;
    if (rejoined) logger?.warn(`[live:redis] Redis is back: shared epoch ${epoch}; resetting clients`);
    else logger?.info?.(`[live:redis] connected: shared epoch ${epoch}`);
    this.options.onChange();
    for (const resolve of this.readyWaiters.splice(0)) resolve(true);
    return rejoined;
  }

  /** Final: every later call is a no-op. Returns `false` when it was closed already. */
  close(): boolean {
    if (this.current === 'closed') return false;
    this.enter('closed');
    for (const resolve of this.readyWaiters.splice(0)) resolve(false);
    this.options.onChange();
    return true;
  }

  /** See `RedisBackend.ready`. */
  ready(timeoutMs: number): Promise<boolean> {
    if (this.current === 'shared') return Promise.resolve(true);
    if (this.current === 'closed') return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (joined: boolean) => {
        clearTimeout(timer);
        resolve(joined);
      };
      this.readyWaiters.push(done);
    });
  }

  /** The backend's health line; `sharedEpoch` is named while shared. */
  health(sharedEpoch: string | null): BackendHealth {
    if (this.current === 'shared') return { ok: true, detail: `redis: shared epoch ${sharedEpoch}` };
    if (this.current === 'closed') return { ok: false, detail: 'redis: closed' };
    if (this.current === 'connecting') return { ok: false, detail: 'redis: connecting; delivering to local clients until joined' };
    const at = new Date(this.began).toISOString();
    return {
      ok: false,
      detail: `redis: unreachable since ${at}${this.lastError ? ` (${this.lastError})` : ''}; delivering to local clients only, retrying`,
    };
  }

  private enter(mode: RedisBackendMode): void {
    this.current = mode;
    this.began = this.options.now();
  }
}
