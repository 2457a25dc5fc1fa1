import { LiveError } from '../shared/errors.ts';
import { groupFilterKey, type GroupFilter } from './groups.ts';
import type { DomainSignal, LiveAction, LiveSignal, ResetSignal } from '../shared/messages.ts';

/**
 * The compaction key of a signal: replay keeps the latest entry per key, the
 * outbox deduplicates per key. Events have no natural key and get a unique one.
 */
export function keyOf(signal: LiveSignal | ResetSignal, seq: number): string {
  switch (signal.kind) {
    case 'invalidate':
      return signal.id === undefined ? `i|${signal.resource}` : `i|${signal.resource}|${signal.id}`;
    case 'progress':
      return `p|${signal.key}`;
    case 'complete':
      return `c|${signal.key}`;
    default:
      return `#${seq}`;
  }
}

/**
 * True when only the latest signal per key matters (invalidations, progress,
 * completion): such signals may be collapsed under backpressure and
 * compacted in replay without losing anything.
 */
export function isIdempotent(signal: LiveSignal | ResetSignal): boolean {
  return signal.kind === 'invalidate' || signal.kind === 'progress' || signal.kind === 'complete';
}

/**
 * The topic a signal travels on when the publisher names none: the resource
 * of an invalidation, the key of progress and completion, the event's topic.
 * A batch travels on its events' common topic, or on `batch` when they differ
 * (a batch is one frame, so it has one topic; name one to route it).
 */
export function defaultTopic(signal: LiveSignal): string {
  switch (signal.kind) {
    case 'invalidate':
      return signal.resource;
    case 'progress':
    case 'complete':
      return signal.key;
    case 'event':
      return signal.topic;
    case 'batch': {
      const topics = new Set(signal.events.map((event) => defaultTopic(event)));
      return topics.size === 1 ? [...topics][0]! : 'batch';
    }
  }
}

/**
 * The key under which a published signal is deduplicated in an outbox and
 * compacted in replay, or `null` when it is unique (events, batches).
 * Namespaced by topic and audience: the same progress key on two topics, or
 * the same invalidation for two group filters, never replace each other (a
 * subscriber of one would otherwise miss its latest value). Scope needs no
 * prefix: outboxes and replay logs are per scope already.
 * Format: `<topic>|<keyOf>` or `<topic>|<groups JSON>|<keyOf>`; topics
 * contain no `|`, and `keyOf` never starts with `[`, so it is unambiguous.
 */
export function compactionKey(signal: LiveSignal, topic: string, groups?: GroupFilter): string | null {
  if (!isIdempotent(signal)) return null;
  const audience = groupFilterKey(groups);
  return audience ? `${topic}|${audience}|${keyOf(signal, 0)}` : `${topic}|${keyOf(signal, 0)}`;
}

const ACTIONS: ReadonlySet<string> = new Set<LiveAction>(['created', 'updated', 'deleted', 'changed']);
const MAX_NAME_LENGTH = 200;
/** Most events in one batch. */
export const MAX_BATCH_EVENTS = 100;

const isName = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME_LENGTH;
const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);

function assertDomainSignal(signal: DomainSignal, where: string): void {
  const fail = (message: string): never => {
    throw new LiveError('BAD_SIGNAL', `${where}${message}`);
  };
  switch (signal.kind) {
    case 'invalidate':
      if (!isName(signal.resource)) fail(`invalidate needs a resource name of 1-${MAX_NAME_LENGTH} characters`);
      if (signal.id !== undefined && !isName(signal.id)) fail(`an invalidated id must be a string of 1-${MAX_NAME_LENGTH} characters`);
      if (!ACTIONS.has(signal.action)) fail(`unknown action "${String(signal.action)}"`);
      if (signal.hint !== undefined && !isObject(signal.hint)) fail('a hint must be a JSON object');
      return;
    case 'progress':
      if (!isName(signal.key)) fail(`progress needs a key of 1-${MAX_NAME_LENGTH} characters`);
      if (!Number.isFinite(signal.current) || !Number.isFinite(signal.total) || signal.total < 0) {
        fail('progress needs finite current and total (total >= 0)');
      }
      if (signal.extra !== undefined && !isObject(signal.extra)) fail('progress extra must be a JSON object');
      return;
    case 'complete':
      if (!isName(signal.key)) fail(`complete needs a key of 1-${MAX_NAME_LENGTH} characters`);
      if (typeof signal.ok !== 'boolean') fail('complete needs ok: boolean');
      if (signal.extra !== undefined && !isObject(signal.extra)) fail('complete extra must be a JSON object');
      return;
    case 'event':
      if (!isName(signal.topic)) fail('an event needs a topic');
      return;
    default:
      fail(`unknown signal kind "${String((signal as { kind?: unknown }).kind)}"`);
  }
}

/**
 * Throws BAD_SIGNAL, with a message naming the problem, unless `signal` is a
 * well-formed signal (a batch holds 1-100 domain signals and no batch).
 */
export function assertSignal(signal: LiveSignal): void {
  if (!isObject(signal)) throw new LiveError('BAD_SIGNAL', 'A signal must be an object with a kind');
  if (signal.kind !== 'batch') return assertDomainSignal(signal, '');
  const events: unknown = signal.events;
  if (!Array.isArray(events) || events.length === 0 || events.length > MAX_BATCH_EVENTS) {
    throw new LiveError('BAD_SIGNAL', `batch needs 1-${MAX_BATCH_EVENTS} events`);
  }
  events.forEach((event: DomainSignal, i) => {
    if (!isObject(event)) throw new LiveError('BAD_SIGNAL', `batch event ${i}: must be an object`);
    assertDomainSignal(event, `batch event ${i}: `);
  });
}
