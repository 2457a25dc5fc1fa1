import { createMemoryBackend, type LiveBackend } from './backend.ts';
import { systemTimers, type LiveTimers } from './clock.ts';
import { LiveError } from '../shared/errors.ts';
import type { LiveMessage } from '../shared/messages.ts';
import { noopMetrics, type LiveMetrics } from './metrics.ts';
import { defaultOutboxLimits, type OutboxLimits } from './outbox.ts';
import type { ThrottleSettings } from './throttle.ts';

/** Options of {@link createHub}. Every field has a default. */
export interface HubOptions {
  /** Sequencing, replay and fan-out. @default createMemoryBackend({ timers }) */
  backend?: LiveBackend;
  /** Clock and timers. @default systemTimers */
  timers?: LiveTimers;
  /** Metrics sink. @default noopMetrics */
  metrics?: LiveMetrics;
  /**
   * Serializes a message once per publish; every recipient gets the same
   * string. Use the tRPC transformer here (e.g. superjson). @default JSON.stringify
   */
  serialize?: (message: LiveMessage) => string;
  /**
   * Base flush interval of the batched lane, in ms; each connection's
   * effective interval is a quarter to four times this, by saturation
   * (see `throttle.ts`). @default 2000
   */
  flushIntervalMs?: number;
  /**
   * Narrowest coalescing window of the coalesced lane, in ms: a key's
   * progress reaches a client at most once per window (wider when the
   * connection is saturated). @default flushIntervalMs
   */
  coalesceWindowMs?: number;
  /** Outbox bounds per connection. @default defaultOutboxLimits */
  limits?: Partial<OutboxLimits>;
  /** Connection ids. @default 16 random base-36 characters */
  newId?: () => string;
  /**
   * Most connections written per slice of the event loop during a fan-out; a
   * slice also ends after about 16,384 frames or 4 ms of the hub's clock
   * (1 ms within 100 ms of a stream connecting, so a reconnect storm is taken
   * in faster), whichever comes first. @default 512
   */
  flushSliceSize?: number;
  /**
   * Longest life of one stream, in ms: past it the stream gets a `reconnect`
   * hint and is closed, and the client resumes from its cursor. Rotation
   * spreads long-lived connections across instances after a deploy and
   * bounds what one stream holds. Each stream's limit is shortened by a random
   * 0-10 % so rotations do not line up. @default undefined (never rotate)
   */
  maxDurationMs?: number;
}

/** {@link HubOptions} checked, with every default filled in. */
export interface HubSettings {
  readonly backend: LiveBackend;
  readonly timers: LiveTimers;
  readonly metrics: LiveMetrics;
  readonly serialize: (message: LiveMessage) => string;
  readonly throttle: ThrottleSettings;
  readonly limits: OutboxLimits;
  readonly newId: () => string;
  readonly flushSliceSize: number;
  readonly maxDurationMs: number | undefined;
}

const randomId = () => Math.random().toString(36).slice(2, 10) + Math.random().toString(36).slice(2, 10);

/** Fills in defaults. @throws LiveError BAD_OPTIONS naming the first invalid option. */
export function resolveHubOptions(options: HubOptions): HubSettings {
  const timers = options.timers ?? systemTimers;
  const maxDurationMs = options.maxDurationMs;
  if (maxDurationMs !== undefined && !(maxDurationMs > 0)) {
    throw new LiveError('BAD_OPTIONS', 'maxDurationMs must be a positive number');
  }
  const flushIntervalMs = options.flushIntervalMs ?? 2000;
  const coalesceWindowMs = options.coalesceWindowMs ?? flushIntervalMs;
  const flushSliceSize = options.flushSliceSize ?? 512;
  if (!(flushIntervalMs > 0)) throw new LiveError('BAD_OPTIONS', 'flushIntervalMs must be a positive number');
  if (!(coalesceWindowMs >= 0)) throw new LiveError('BAD_OPTIONS', 'coalesceWindowMs must be zero or a positive number');
  if (!(flushSliceSize >= 1)) throw new LiveError('BAD_OPTIONS', 'flushSliceSize must be at least 1');
  const limits = { ...defaultOutboxLimits, ...options.limits };
  for (const [name, value] of Object.entries(limits)) {
    if (!(typeof value === 'number' && value > 0)) throw new LiveError('BAD_OPTIONS', `limits.${name} must be a positive number`);
  }
  return {
    backend: options.backend ?? createMemoryBackend({ timers }),
    timers,
    metrics: options.metrics ?? noopMetrics,
    serialize: options.serialize ?? JSON.stringify,
    throttle: { flushIntervalMs, coalesceWindowMs },
    limits,
    newId: options.newId ?? randomId,
    flushSliceSize,
    maxDurationMs,
  };
}
