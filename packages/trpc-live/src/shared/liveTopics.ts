/**
 * Event topics and job keys, declared once for the server that publishes
 * them and the browser that reads them (the resource registry's sibling).
 *
 * Isomorphic and import-free beyond this folder. The payload types are
 * declared, not validated: `liveEvent<T>()` and `liveJob<P, R>()` carry them
 * as phantom types, the publisher (`live.publisher`, trpc-live/trpc) only
 * accepts them, and `parse` on the page returns them.
 */
import { LiveError } from './errors.ts';
import type { LiveHint, LiveJson, LiveMessage } from './messages.ts';
import { assertTopic } from './topic.ts';

/** Type-only key of a declaration's payload types (never present at run time). */
declare const payloadType: unique symbol;

/** A declared event topic: free-form events whose `data` is `TData`. Made by {@link liveEvent}. */
export interface EventDeclaration<TData extends LiveJson | undefined = LiveJson | undefined> {
  /** Discriminant: events on one topic. */
  readonly kind: 'event';
  /** Type-only: the event's data. */
  readonly [payloadType]?: { data: TData };
}

/**
 * A declared job: progress (`extra: TProgress`) and completion
 * (`extra: TResult`) under keys `<name>.<id>`, one key per run of the job.
 * Made by {@link liveJob}.
 */
export interface JobDeclaration<TProgress extends LiveHint | undefined = LiveHint | undefined, TResult extends LiveHint | undefined = TProgress> {
  /** Discriminant: progress and completion of job runs. */
  readonly kind: 'job';
  /** Type-only: the progress and completion extras. */
  readonly [payloadType]?: { progress: TProgress; result: TResult };
}

/** Declares an event topic whose events carry `TData` (JSON). Use inside {@link defineTopics}. */
export function liveEvent<TData extends LiveJson | undefined = undefined>(): EventDeclaration<TData> {
  return { kind: 'event' };
}

/**
 * Declares a job: its progress carries `TProgress`, its completion `TResult`
 * (JSON objects; both default to none). Use inside {@link defineTopics}.
 */
export function liveJob<TProgress extends LiveHint | undefined = undefined, TResult extends LiveHint | undefined = TProgress>(): JobDeclaration<
  TProgress,
  TResult
> {
  return { kind: 'job' };
}

/** What {@link defineTopics} takes: topic names to declarations. */
export type TopicDeclarations = { readonly [name: string]: EventDeclaration<any> | JobDeclaration<any, any> };

/** An event received on a declared topic, as {@link EventTopic.parse} returns it. */
export interface TopicEvent<TData> {
  /** The topic it arrived on. */
  readonly topic: string;
  /** Its data, typed by the declaration. */
  readonly data: TData;
  /** Its position in the stream. */
  readonly seq: number;
}

/** A declared event topic, with its helpers. */
export interface EventTopic<TName extends string = string, TData = unknown> {
  /** Discriminant: an event topic. */
  readonly kind: 'event';
  /** The declared name, which is the topic the events travel on. */
  readonly name: TName;
  /** The topic to subscribe to (the name). */
  readonly topic: TName;
  /** The event when `message` is an event on this topic, else `null`. Events inside a batch are not looked at. */
  parse(message: LiveMessage): TopicEvent<TData> | null;
}

/** A progress or completion message of a declared job, as {@link JobTopic.parse} returns it. */
export type JobUpdate<TProgress, TResult> =
  | {
      /** Discriminant: progress of a run. */
      readonly kind: 'progress';
      /** The run's id (what {@link JobTopic.key} was given). */
      readonly id: string;
      /** Units done so far. */
      readonly current: number;
      /** Units in all. */
      readonly total: number;
      /** The progress extra, typed by the declaration. */
      readonly extra: TProgress;
      /** Its position in the stream. */
      readonly seq: number;
    }
  | {
      /** Discriminant: the run finished. */
      readonly kind: 'complete';
      /** The run's id. */
      readonly id: string;
      /** True when the run succeeded. */
      readonly ok: boolean;
      /** The completion extra, typed by the declaration. */
      readonly extra: TResult;
      /** Its position in the stream. */
      readonly seq: number;
    };

/** A declared job, with the helpers that build and read its keys. */
export interface JobTopic<TName extends string = string, TProgress = unknown, TResult = unknown> {
  /** Discriminant: a job. */
  readonly kind: 'job';
  /** The declared name, the first token of every key. */
  readonly name: TName;
  /** The pattern matching every run's key (`<name>.*`), to subscribe to all runs. */
  readonly pattern: `${TName}.*`;
  /**
   * The key (and topic) of one run: `<name>.<id>`.
   * @throws LiveError BAD_TOPIC when `id` is not one topic token (no `.`, no wildcard, no spaces).
   */
  key(id: string): `${TName}.${string}`;
  /** The update when `message` is progress or completion of a run of this job, else `null`. */
  parse(message: LiveMessage): JobUpdate<TProgress, TResult> | null;
}

/** The helper object of one declaration. */
export type inferTopic<TName extends string, TDeclaration> =
  TDeclaration extends JobDeclaration<infer P, infer R>
    ? JobTopic<TName, P, R>
    : TDeclaration extends EventDeclaration<infer D>
      ? EventTopic<TName, D>
      : never;

/** What {@link defineTopics} returns: each declaration with its helpers, by name. */
export type TopicRegistry<TDeclarations extends TopicDeclarations = TopicDeclarations> = {
  readonly [N in Extract<keyof TDeclarations, string>]: inferTopic<N, TDeclarations[N]>;
};

/** Names of the event topics of a registry. */
export type inferEventName<TTopics> = {
  [N in keyof TTopics]: TTopics[N] extends EventTopic<any, any> ? N : never;
}[keyof TTopics] &
  string;

/** Names of the jobs of a registry. */
export type inferJobName<TTopics> = { [N in keyof TTopics]: TTopics[N] extends JobTopic<any, any, any> ? N : never }[keyof TTopics] & string;

/** The data type of an event topic. */
export type inferEventData<TTopic> = TTopic extends EventTopic<any, infer D> ? D : never;

/** The progress extra type of a job. */
export type inferJobProgress<TTopic> = TTopic extends JobTopic<any, infer P, any> ? P : never;

/** The completion extra type of a job. */
export type inferJobResult<TTopic> = TTopic extends JobTopic<any, any, infer R> ? R : never;

function eventTopic(name: string): EventTopic {
  assertTopic(name);
  return {
    kind: 'event',
    name,
    topic: name,
    parse: (message) => (message.kind === 'event' && message.topic === name ? { topic: name, data: message.data, seq: message.seq } : null),
  };
}

function jobTopic(name: string): JobTopic {
  assertTopic(name);
  const prefix = `${name}.`;
  return {
    kind: 'job',
    name,
    pattern: `${name}.*`,
    key(id) {
      // One token: the pattern `<name>.*` matches exactly one, and parse reads the id back from it.
      if (typeof id !== 'string' || id.includes('.')) {
        throw new LiveError('BAD_TOPIC', `Job "${name}": the id ${JSON.stringify(id)} must be one topic token (no ".")`);
      }
      const key = `${prefix}${id}`;
      assertTopic(key);
      return key as `${string}.${string}`;
    },
    parse(message) {
      if (message.kind !== 'progress' && message.kind !== 'complete') return null;
      if (!message.key.startsWith(prefix)) return null;
      const id = message.key.slice(prefix.length);
      if (!id || id.includes('.')) return null;
      return message.kind === 'progress'
        ? { kind: 'progress', id, current: message.current, total: message.total, extra: message.extra, seq: message.seq }
        : { kind: 'complete', id, ok: message.ok, extra: message.extra, seq: message.seq };
    },
  };
}

/**
 * Declares the app's event topics and jobs once, for both ends: the server
 * publishes through a publisher typed by it, the page reads messages with
 * each entry's `parse`. Names are topics (dot-separated tokens); a job's runs
 * are keyed `<name>.<id>`.
 *
 * ```ts
 * export const topics = defineTopics({
 *   notifications: liveEvent<{ id: string; title: string }>(),
 *   imports: liveJob<{ imported: number }, { imported: number; failed: number }>(),
 * });
 * topics.imports.key('imp_1'); // 'imports.imp_1'
 * ```
 * @throws LiveError BAD_TOPIC for a name that is not a topic; BAD_OPTIONS for a declaration that is neither kind.
 */
export function defineTopics<const TDeclarations extends TopicDeclarations>(declarations: TDeclarations): TopicRegistry<TDeclarations> {
  const topics: Record<string, EventTopic | JobTopic> = {};
  for (const [name, declaration] of Object.entries(declarations)) {
    const kind = (declaration as { kind?: unknown } | null)?.kind;
    if (kind === 'event') topics[name] = eventTopic(name);
    else if (kind === 'job') topics[name] = jobTopic(name);
    else throw new LiveError('BAD_OPTIONS', `Topic "${name}": declare it with liveEvent<T>() or liveJob<P, R>()`);
  }
  return topics as TopicRegistry<TDeclarations>;
}
