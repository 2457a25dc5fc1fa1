import { createMemoryBackend, type GroupFilter, type LiveBackend, type PublishedEntry } from './backend';
import { systemTimers, type LiveTimers } from './clock';
import { defaultOutboxLimits, LiveConnection, type ConnectionGroups, type ConnectionHost, type OutboxLimits } from './connection';
import { parseCursor } from './cursor';
import { LiveError } from './errors';
import { noopMetrics, type LiveMetrics } from './metrics';
import {
  isIdempotent,
  keyOf,
  type DomainSignal,
  type Lane,
  type LiveAction,
  type LiveControlMessage,
  type LiveDataMessage,
  type LiveHint,
  type LiveJson,
  type LiveMessage,
  type LiveSignal,
  type ResetReason,
} from './signal';
import type { Frame, LiveSink } from './sink';
import { assertPattern, assertTopic, matchTopic } from './topic';
import { TopicIndex } from './topicIndex';

/** Options of {@link createHub}. Every field has a default. */
export interface HubOptions {
  /** Sequencing, replay and fan-out. @default createMemoryBackend() */
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
  /** Base flush interval of the batched and coalesced lanes, in ms. @default 2000 */
  flushIntervalMs?: number;
  /** Outbox bounds per connection. @default defaultOutboxLimits */
  limits?: Partial<OutboxLimits>;
  /** Connection ids. @default 16 random base-36 characters */
  newId?: () => string;
  /** Connections written per slice of the event loop during a fan-out. @default 512 */
  flushSliceSize?: number;
}

/** What a stream asks for when it connects. */
export interface ConnectOptions {
  /** Tenant. Signals never cross scopes. */
  scope: string;
  /** Subscription patterns (NATS-style wildcards). @default ['>'] (everything in scope) */
  topics?: readonly string[];
  /** Attributes publishes can target (role, plan, user…). @default {} */
  groups?: ConnectionGroups;
  /** Cursor to resume from (`epoch:seq`); malformed or unknown cursors get a reset. */
  lastEventId?: string | null;
  sink: LiveSink;
}

/** Routing options of a publish. */
export interface PublishOptions {
  /** @default 'instant' ('coalesced' for progress) */
  lane?: Lane;
  /** Topic to publish on. @default the resource, progress/complete key, or event topic */
  topic?: string;
  /** Only connections whose groups match every attribute. @default all in scope */
  groups?: GroupFilter;
}

/** Where a publish landed in history. */
export interface PublishReceipt {
  readonly epoch: string;
  readonly seq: number;
  /** `epoch:seq`, the SSE id recipients see. */
  readonly cursor: string;
}

/** What `invalidate` takes. */
export interface InvalidateInput {
  resource: string;
  id?: string;
  /** @default 'changed' */
  action?: LiveAction;
  /** A small JSON object that travels with the signal. */
  hint?: LiveHint;
}

/** A snapshot for dashboards and the inspector. */
export interface HubStats {
  readonly epoch: string;
  readonly connections: number;
  readonly scopes: number;
  readonly published: Readonly<Record<Lane, number>>;
  readonly draining: boolean;
}

const MAX_SCOPE_LENGTH = 128;
const MAX_PATTERNS = 32;

function assertScope(scope: string): void {
  if (typeof scope !== 'string' || scope.length === 0 || scope.length > MAX_SCOPE_LENGTH) {
    throw new LiveError('BAD_SIGNAL', `A scope must be a non-empty string of at most ${MAX_SCOPE_LENGTH} characters`);
  }
}

function defaultTopic(signal: LiveSignal): string {
  switch (signal.kind) {
    case 'invalidate':
      return signal.resource;
    case 'progress':
    case 'complete':
      return signal.key;
    case 'event':
      return signal.topic;
    case 'batch':
      return 'batch';
  }
}

function groupsMatch(filter: GroupFilter | undefined, groups: ConnectionGroups): boolean {
  if (!filter) return true;
  for (const attribute in filter) {
    const want = filter[attribute]!;
    const have = groups[attribute];
    if (have === undefined) return false;
    if (typeof want === 'string' ? want !== have : !want.includes(have)) return false;
  }
  return true;
}

/** The compaction key of a published signal, or `null` when it is unique. */
function compactionKey(signal: LiveSignal): string | null {
  return isIdempotent(signal) ? keyOf(signal, 0) : null;
}

const randomId = () => Math.random().toString(36).slice(2, 10) + Math.random().toString(36).slice(2, 10);

/**
 * The hub: routes published signals to the connections whose scope, groups
 * and topics all match (an intersection, never a union), through each
 * connection's lanes. Pure TypeScript; the environment is injected.
 */
export class Hub {
  readonly backend: LiveBackend;
  private readonly timers: LiveTimers;
  private readonly metrics: LiveMetrics;
  private readonly serialize: (message: LiveMessage) => string;
  private readonly newId: () => string;
  private readonly sliceSize: number;
  private readonly host: ConnectionHost;
  private readonly scopes = new Map<string, TopicIndex<LiveConnection>>();
  private readonly byId = new Map<string, LiveConnection>();
  private readonly instantQueue = new Set<LiveConnection>();
  private flushScheduled = false;
  private stamp = 0;
  /** Highest seq delivered: where a reset points. */
  private lastSeq = 0;
  private drainingState = false;
  private readonly publishedCounts: Record<Lane, number> = { instant: 0, batched: 0, coalesced: 0 };
  private readonly taps = new Set<(entry: PublishedEntry) => void>();

  constructor(options: HubOptions = {}) {
    this.timers = options.timers ?? systemTimers;
    this.backend = options.backend ?? createMemoryBackend({ timers: this.timers });
    this.metrics = options.metrics ?? noopMetrics;
    this.serialize = options.serialize ?? JSON.stringify;
    this.newId = options.newId ?? randomId;
    this.sliceSize = options.flushSliceSize ?? 512;
    const flushIntervalMs = options.flushIntervalMs ?? 2000;
    if (!(flushIntervalMs > 0)) throw new LiveError('BAD_OPTIONS', 'flushIntervalMs must be a positive number');
    const limits = { ...defaultOutboxLimits, ...options.limits };
    this.host = {
      timers: this.timers,
      metrics: this.metrics,
      limits,
      flushIntervalMs,
      requestInstantFlush: (connection) => this.requestInstantFlush(connection),
      resetFrame: (reason) => this.resetFrame(reason),
      controlFrame: (message) => this.controlFrame(message),
      unregister: (connection) => this.unregister(connection),
    };
    this.backend.attach({
      deliver: (entry) => this.deliver(entry),
      gap: (reason) => this.resetAll(reason),
    });
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.byId.size;
  }

  /** True once {@link drain} was called. */
  get draining(): boolean {
    return this.drainingState;
  }

  /** A connection by id (for pause/resume calls from the same user). */
  connection(id: string): LiveConnection | undefined {
    return this.byId.get(id);
  }

  /** Every open connection. */
  connections(): IterableIterator<LiveConnection> {
    return this.byId.values();
  }

  stats(): HubStats {
    return {
      epoch: this.backend.epoch(),
      connections: this.byId.size,
      scopes: this.scopes.size,
      published: { ...this.publishedCounts },
      draining: this.drainingState,
    };
  }

  /**
   * Registers a stream. Writes a `hello` control frame, then, if a cursor was
   * given, the compacted entries since it (or a reset), then live signals.
   * With the memory backend, registration and the replay snapshot happen in
   * one synchronous step: nothing is missed and nothing is sent twice.
   * @throws LiveError BAD_TOPIC for invalid patterns, DRAINING while draining.
   */
  connect(options: ConnectOptions): LiveConnection {
    if (this.drainingState) throw new LiveError('DRAINING', 'The server is restarting; reconnect shortly');
    assertScope(options.scope);
    const patterns = [...new Set(options.topics?.length ? options.topics : ['>'])];
    if (patterns.length > MAX_PATTERNS) {
      throw new LiveError('BAD_TOPIC', `At most ${MAX_PATTERNS} topic patterns per connection`);
    }
    for (const pattern of patterns) assertPattern(pattern);

    const connection = new LiveConnection(
      this.newId(),
      options.scope,
      patterns,
      options.groups ?? {},
      options.sink,
      this.host,
    );
    let index = this.scopes.get(options.scope);
    if (!index) {
      index = new TopicIndex();
      this.scopes.set(options.scope, index);
    }
    for (const pattern of patterns) index.add(pattern, connection);
    this.byId.set(connection.id, connection);
    this.metrics.connectionOpened?.();
    connection.sendControl({ kind: 'hello', connectionId: connection.id, epoch: this.backend.epoch() });

    if (options.lastEventId) this.replay(connection, options.lastEventId);
    return connection;
  }

  private replay(connection: LiveConnection, lastEventId: string): void {
    const cursor = parseCursor(lastEventId);
    if (!cursor) {
      this.metrics.replay?.(false, 0);
      connection.sendReplay('unknown-cursor');
      return;
    }
    const answer = (result: Awaited<ReturnType<LiveBackend['since']>>) => {
      if (!result.ok) {
        this.metrics.replay?.(false, 0);
        connection.sendReplay(result.reason);
        return;
      }
      const frames: Frame[] = [];
      for (const entry of result.entries) {
        if (!groupsMatch(entry.groups, connection.groups)) continue;
        if (!connection.patterns.some((p) => matchTopic(p, entry.topic))) continue;
        frames.push(this.frameOf(entry));
      }
      this.metrics.replay?.(true, frames.length);
      connection.sendReplay(frames);
    };
    const result = this.backend.since(connection.scope, cursor.epoch, cursor.seq);
    if (result instanceof Promise) {
      connection.hold();
      result.then(answer, () => {
        this.metrics.replay?.(false, 0);
        connection.sendReplay('gap');
      });
    } else {
      answer(result);
    }
  }

  /**
   * Publishes a signal to every connection of `scope` whose topics and groups
   * match. Resolves once the backend has sequenced it; with the memory
   * backend, delivery to local connections is queued before this returns.
   * @throws LiveError BAD_SIGNAL / BAD_TOPIC for invalid input.
   */
  async publish(scope: string, signal: LiveSignal, options: PublishOptions = {}): Promise<PublishReceipt> {
    assertScope(scope);
    const topic = options.topic ?? defaultTopic(signal);
    assertTopic(topic);
    const lane = options.lane ?? (signal.kind === 'progress' ? 'coalesced' : 'instant');
    const entry = await this.backend.publish({
      scope,
      topic,
      lane,
      signal,
      key: compactionKey(signal),
      ...(options.groups ? { groups: options.groups } : {}),
    });
    return { epoch: entry.epoch, seq: entry.seq, cursor: `${entry.epoch}:${entry.seq}` };
  }

  /** Publishes "this resource (or this one id of it) changed". Instant lane by default. */
  invalidate(scope: string, input: InvalidateInput, options?: PublishOptions): Promise<PublishReceipt> {
    if (typeof input?.resource !== 'string' || !input.resource) {
      return Promise.reject(new LiveError('BAD_SIGNAL', 'invalidate needs a resource name'));
    }
    return this.publish(
      scope,
      {
        kind: 'invalidate',
        resource: input.resource,
        action: input.action ?? 'changed',
        ...(input.id !== undefined ? { id: String(input.id) } : {}),
        ...(input.hint ? { hint: input.hint } : {}),
      },
      options,
    );
  }

  /** Publishes job progress on the coalesced lane: clients see the latest value per flush window. */
  progress(
    scope: string,
    key: string,
    current: number,
    total: number,
    extra?: LiveHint,
    options?: PublishOptions,
  ): Promise<PublishReceipt> {
    if (!Number.isFinite(current) || !Number.isFinite(total) || total < 0) {
      return Promise.reject(new LiveError('BAD_SIGNAL', 'progress needs finite current and total'));
    }
    return this.publish(scope, { kind: 'progress', key, current, total, ...(extra ? { extra } : {}) }, options);
  }

  /** Publishes the completion of a job on the instant lane. */
  complete(scope: string, key: string, ok: boolean, extra?: LiveHint, options?: PublishOptions): Promise<PublishReceipt> {
    return this.publish(scope, { kind: 'complete', key, ok, ...(extra ? { extra } : {}) }, options);
  }

  /** Publishes a free-form event (e.g. a notification) on `topic`. */
  signal(scope: string, topic: string, data?: LiveJson, options?: PublishOptions): Promise<PublishReceipt> {
    return this.publish(scope, { kind: 'event', topic, ...(data !== undefined ? { data } : {}) }, { ...options, topic });
  }

  /** Publishes several domain events as one frame (one cursor). */
  batch(scope: string, events: readonly DomainSignal[], options?: PublishOptions): Promise<PublishReceipt> {
    if (!Array.isArray(events) || events.length === 0) {
      return Promise.reject(new LiveError('BAD_SIGNAL', 'batch needs at least one event'));
    }
    return this.publish(scope, { kind: 'batch', events }, options);
  }

  /**
   * Observes every entry this hub delivers (from any instance), before
   * routing. For inspectors and tests; listeners must be cheap and must not throw.
   */
  tap(listener: (entry: PublishedEntry) => void): () => void {
    this.taps.add(listener);
    return () => this.taps.delete(listener);
  }

  /** Sends every connection a reset (e.g. the shared backend had a gap). */
  resetAll(reason: ResetReason): void {
    for (const connection of this.byId.values()) connection.reset(reason);
  }

  /**
   * Starts draining: refuses new streams, tells every connection to
   * reconnect after a random delay in [0, jitterMs), and closes it.
   * Idempotent. Returns how many connections were told.
   */
  drain(options: { jitterMs?: number; random?: () => number } = {}): number {
    this.drainingState = true;
    const jitter = options.jitterMs ?? 5000;
    const random = options.random ?? Math.random;
    let told = 0;
    for (const connection of [...this.byId.values()]) {
      connection.sendControl({ kind: 'reconnect', afterMs: Math.floor(random() * jitter), reason: 'drain' });
      connection.close('drain');
      told++;
    }
    return told;
  }

  /** Closes every connection and the backend. */
  async close(): Promise<void> {
    this.drainingState = true;
    for (const connection of [...this.byId.values()]) connection.close('closed');
    await this.backend.close();
  }

  private deliver(entry: PublishedEntry): void {
    if (entry.seq > this.lastSeq) this.lastSeq = entry.seq;
    this.publishedCounts[entry.lane]++;
    this.metrics.published?.(entry.lane);
    for (const tap of this.taps) tap(entry);
    const index = this.scopes.get(entry.scope);
    if (!index) return;
    const stamp = ++this.stamp;
    let frame: Frame | undefined;
    index.match(entry.topic, (connection) => {
      if (connection.stamp === stamp) return;
      connection.stamp = stamp;
      if (!groupsMatch(entry.groups, connection.groups)) return;
      frame ??= this.frameOf(entry);
      connection.enqueue(frame);
    });
  }

  /** The entry's frame, encoded once and cached on the entry. */
  private frameOf(entry: PublishedEntry): Frame {
    if (entry.frame) return entry.frame;
    const message = { ...entry.signal, seq: entry.seq } as LiveDataMessage;
    const payload = this.serialize(message);
    const frame: Frame = {
      seq: entry.seq,
      epoch: entry.epoch,
      id: `${entry.epoch}:${entry.seq}`,
      key: entry.key,
      topic: entry.topic,
      lane: entry.lane,
      message,
      payload,
      bytes: payload.length,
      idempotent: isIdempotent(entry.signal),
      publishedAt: this.timers.now(),
    };
    entry.frame = frame;
    return frame;
  }

  private resetFrame(reason: ResetReason): Frame {
    // Any seq works as a cursor; a new publish would only add an entry, so
    // the reset points at the newest frame this hub knows of.
    const epoch = this.backend.epoch();
    const seq = this.headSeq;
    const message: LiveDataMessage = { kind: 'reset', reason, seq };
    const payload = this.serialize(message);
    return {
      seq,
      epoch,
      id: `${epoch}:${seq}`,
      key: 'reset',
      topic: 'reset',
      lane: 'instant',
      message,
      payload,
      bytes: payload.length,
      idempotent: true,
      publishedAt: this.timers.now(),
    };
  }

  private controlFrame(message: LiveControlMessage): Frame {
    const payload = this.serialize(message);
    return {
      seq: 0,
      epoch: this.backend.epoch(),
      id: null,
      key: 'control',
      topic: 'control',
      lane: 'instant',
      message,
      payload,
      bytes: payload.length,
      idempotent: false,
      publishedAt: this.timers.now(),
    };
  }

  private get headSeq(): number {
    return this.lastSeq;
  }

  private requestInstantFlush(connection: LiveConnection): void {
    this.instantQueue.add(connection);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.timers.defer(() => this.flushInstant());
  }

  /** Writes queued instant frames, a slice of connections at a time so the event loop keeps serving. */
  private flushInstant(): void {
    this.flushScheduled = false;
    let n = 0;
    for (const connection of this.instantQueue) {
      this.instantQueue.delete(connection);
      connection.flush('instant');
      if (++n >= this.sliceSize && this.instantQueue.size) {
        this.flushScheduled = true;
        this.timers.defer(() => this.flushInstant());
        return;
      }
    }
  }

  private unregister(connection: LiveConnection): void {
    if (!this.byId.delete(connection.id)) return;
    this.instantQueue.delete(connection);
    const index = this.scopes.get(connection.scope);
    if (index) {
      for (const pattern of connection.patterns) index.remove(pattern, connection);
      if (index.size === 0) this.scopes.delete(connection.scope);
    }
    this.metrics.connectionClosed?.();
  }
}

/** Creates a hub. See {@link HubOptions} for defaults. */
export function createHub(options?: HubOptions): Hub {
  return new Hub(options);
}
