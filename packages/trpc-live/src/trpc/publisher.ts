import { processHub, type Hub, type PublishOptions, type PublishReceipt } from '../core/index.ts';
import { LiveError } from '../shared/errors.ts';
import type { EventTopic, JobTopic, inferEventData, inferEventName, inferJobName, inferJobProgress, inferJobResult, TopicRegistry } from '../shared/liveTopics.ts';
import type { LiveAction, LiveHint, LiveJson } from '../shared/messages.ts';
import type { inferResourceId, inferResourceName, ResourceRegistry } from '../shared/registry.ts';
import { recordPublisher, type PublisherRecord } from './publisherRecords.ts';

/**
 * What a publisher may publish. Declared up front, like a mutation's
 * `invalidates`: the types allow nothing else, the publisher refuses anything
 * else at run time, and `trpc-live check` lists it.
 */
export interface PublisherDeclaration<TResource extends string = string, TTopic extends string = string> {
  /** Resources of the registry it may invalidate. @default [] */
  readonly invalidates?: readonly TResource[];
  /** Declared topics (events and jobs, see `defineTopics`) it may publish. @default [] */
  readonly publishes?: readonly TTopic[];
}

/** Delivery options of one publish (the topic comes from the declaration). */
export interface PublisherSendOptions {
  /** Outbox lane that delivers it. @default 'coalesced' for progress, 'instant' for everything else */
  readonly lane?: PublishOptions['lane'];
  /** Only connections whose groups match (e.g. `{ user: id }`). @default every connection of the scope */
  readonly groups?: PublishOptions['groups'];
}

/** Options of {@link Publisher.invalidate}. */
export interface PublisherInvalidateOptions extends PublisherSendOptions {
  /** What happened, for listeners (toasts, logs). @default 'changed' */
  readonly action?: LiveAction;
  /** Small JSON object delivered with the signal; never the data itself. @default none */
  readonly hint?: LiveHint;
}

/** The payload argument of an event, progress or completion: optional when the declaration allows none. */
export type PublisherPayloadArgs<TPayload> = undefined extends TPayload
  ? [payload?: TPayload, options?: PublisherSendOptions]
  : [payload: TPayload, options?: PublisherSendOptions];

/**
 * Publishes outside a procedure (a job, a worker, a script), typed by the
 * resource registry and the declared topics and limited to what it declared.
 * Every method rejects with a `LiveError` (BAD_SIGNAL) naming the problem
 * for anything its declaration does not allow, and publishes nothing then.
 */
export interface Publisher<
  TRegistry extends ResourceRegistry = ResourceRegistry,
  TTopics extends TopicRegistry<any> = TopicRegistry,
  TResource extends inferResourceName<TRegistry> = inferResourceName<TRegistry>,
  TTopic extends Extract<keyof TTopics, string> = Extract<keyof TTopics, string>,
> {
  /** Its name, as `trpc-live check` lists it. */
  readonly name: string;
  /** The resources it may invalidate. */
  readonly invalidates: readonly TResource[];
  /** The topics it may publish. */
  readonly publishes: readonly TTopic[];
  /** Publishes "every `resource` changed" to `scope`. */
  invalidate<TName extends TResource>(scope: string, resource: TName, options?: PublisherInvalidateOptions): Promise<PublishReceipt>;
  /** Publishes "`resource` `id` changed" to `scope` (every id when `undefined`); the id's type is the registry's. */
  invalidate<TName extends TResource>(
    scope: string,
    resource: TName,
    id: inferResourceId<TRegistry, TName> | undefined,
    options?: PublisherInvalidateOptions,
  ): Promise<PublishReceipt>;
  /** Publishes an event on a declared event topic, its data typed by `liveEvent<T>()`. */
  event<TName extends TTopic & inferEventName<TTopics>>(
    scope: string,
    topic: TName,
    ...args: PublisherPayloadArgs<inferEventData<TTopics[TName]>>
  ): Promise<PublishReceipt>;
  /** Publishes progress of run `id` of a declared job (key `<job>.<id>`, coalesced lane). */
  progress<TName extends TTopic & inferJobName<TTopics>>(
    scope: string,
    job: TName,
    id: string,
    current: number,
    total: number,
    ...args: PublisherPayloadArgs<inferJobProgress<TTopics[TName]>>
  ): Promise<PublishReceipt>;
  /** Publishes the completion of run `id` of a declared job (instant lane). */
  complete<TName extends TTopic & inferJobName<TTopics>>(
    scope: string,
    job: TName,
    id: string,
    ok: boolean,
    ...args: PublisherPayloadArgs<inferJobResult<TTopics[TName]>>
  ): Promise<PublishReceipt>;
  /** The same publisher on another hub (a test's, a script's). */
  withHub(hub: Hub | (() => Hub)): Publisher<TRegistry, TTopics, TResource, TTopic>;
}

/** Options of {@link createPublisher}. */
export interface CreatePublisherOptions<
  TRegistry extends ResourceRegistry,
  TTopics extends TopicRegistry<any>,
  TResource extends string,
  TTopic extends string,
> extends PublisherDeclaration<TResource, TTopic> {
  /** The publisher's name, as `trpc-live check` lists it (e.g. `'import-worker'`). */
  readonly name: string;
  /** The resource registry (`defineResources`) its invalidations are checked against. */
  readonly resources: TRegistry;
  /** The declared topics (`defineTopics`). @default none: it publishes invalidations only */
  readonly topics?: TTopics;
  /** The hub, or a getter for one. @default the process-wide hub (`processHub()`) */
  readonly hub?: Hub | (() => Hub);
}

const list = (names: readonly string[]) => names.join(', ') || 'none';

/**
 * Creates a publisher for code outside a procedure, recorded under its
 * registry for `trpc-live check`. Usually through `live.publisher(name, …)`,
 * which passes the hub, registry and topics given to `createLive`.
 *
 * ```ts
 * const worker = createPublisher({ name: 'import-worker', resources, topics, invalidates: ['orders'], publishes: ['imports'] });
 * await worker.progress(tenant, 'imports', run.id, 40, 100, { imported: 38 });
 * await worker.invalidate(tenant, 'orders');
 * ```
 * @throws LiveError BAD_OPTIONS naming a declared resource or topic the registries lack.
 */
export function createPublisher<
  TRegistry extends ResourceRegistry,
  TTopics extends TopicRegistry<any> = TopicRegistry<Record<never, never>>,
  const TResource extends inferResourceName<TRegistry> = never,
  const TTopic extends Extract<keyof TTopics, string> = never,
>(options: CreatePublisherOptions<TRegistry, TTopics, TResource, TTopic>): Publisher<TRegistry, TTopics, TResource, TTopic> {
  const { name, resources } = options;
  const fail = (message: string): never => {
    throw new LiveError('BAD_OPTIONS', `Publisher ${JSON.stringify(name)}: ${message}`);
  };
  if (typeof name !== 'string' || !name) throw new LiveError('BAD_OPTIONS', 'A publisher needs a name (trpc-live check lists it)');
  if (typeof resources !== 'object' || resources === null) fail('needs the resource registry (resources)');
  const invalidates = [...(options.invalidates ?? [])];
  const publishes = [...(options.publishes ?? [])];
  const topics = (options.topics ?? {}) as Record<string, EventTopic | JobTopic>;
  for (const resource of invalidates) {
    if (!Object.hasOwn(resources, resource)) fail(`invalidates unknown resource "${resource}" (the registry has ${list(Object.keys(resources))})`);
  }
  for (const topic of publishes) {
    if (!Object.hasOwn(topics, topic)) fail(`publishes undeclared topic "${topic}" (declared: ${list(Object.keys(topics))})`);
  }
  const record: PublisherRecord = {
    name,
    invalidates,
    publishes: publishes.map((topic) => ({ name: topic, kind: topics[topic]!.kind })),
  };
  recordPublisher(resources, record);
  return bind(record, resources, topics, options.hub);
}

/** The publisher of `record` publishing into `source`. */
function bind(
  record: PublisherRecord,
  resources: ResourceRegistry,
  topics: Record<string, EventTopic | JobTopic>,
  source: Hub | (() => Hub) | undefined,
): Publisher<any, any, any, any> {
  const hub = typeof source === 'function' ? source : source ? () => source : () => processHub();
  const refuse = (message: string) => Promise.reject(new LiveError('BAD_SIGNAL', `Publisher ${JSON.stringify(record.name)}: ${message}`));
  const declared = (kind: 'event' | 'job', topic: string): string | null => {
    if (record.publishes.some((p) => p.name === topic && p.kind === kind)) return null;
    const what = kind === 'event' ? 'event topics' : 'jobs';
    const mine = record.publishes.filter((p) => p.kind === kind).map((p) => p.name);
    return `"${topic}" is not one of the ${what} it declares (${list(mine)}); add it to its publishes`;
  };
  const key = (job: string, id: string) => (topics[job] as JobTopic).key(id);
  const sendOptions = (options: PublisherSendOptions | undefined): PublishOptions | undefined =>
    options ? { ...(options.lane ? { lane: options.lane } : {}), ...(options.groups ? { groups: options.groups } : {}) } : undefined;
  return {
    name: record.name,
    invalidates: record.invalidates,
    publishes: record.publishes.map((p) => p.name),
    invalidate(scope: string, resource: string, idOrOptions?: string | number | PublisherInvalidateOptions, more?: PublisherInvalidateOptions) {
      const [id, options] = typeof idOrOptions === 'object' && idOrOptions !== null ? [undefined, idOrOptions] : [idOrOptions, more];
      if (!record.invalidates.includes(resource)) {
        const unknown = Object.hasOwn(resources, resource) ? '' : 'unknown resource ';
        return refuse(`${unknown}"${resource}" is not one of the resources it declares (${list(record.invalidates)}); add it to its invalidates`);
      }
      if (id !== undefined) {
        const kind = resources[resource]!.id ?? 'string';
        if (typeof id !== kind) return refuse(`resource "${resource}" takes ${kind} ids, got ${typeof id} ${JSON.stringify(id)}`);
      }
      return hub().invalidate(
        scope,
        { resource, ...(id !== undefined ? { id: String(id) } : {}), ...(options?.action ? { action: options.action } : {}), ...(options?.hint ? { hint: options.hint } : {}) },
        sendOptions(options),
      );
    },
    event(scope: string, topic: string, data?: LiveJson, options?: PublisherSendOptions) {
      const problem = declared('event', topic);
      return problem ? refuse(problem) : hub().signal(scope, topic, data, sendOptions(options));
    },
    async progress(scope: string, job: string, id: string, current: number, total: number, extra?: LiveHint, options?: PublisherSendOptions) {
      const problem = declared('job', job);
      return problem ? refuse(problem) : hub().progress(scope, key(job, id), current, total, extra, sendOptions(options));
    },
    async complete(scope: string, job: string, id: string, ok: boolean, extra?: LiveHint, options?: PublisherSendOptions) {
      const problem = declared('job', job);
      return problem ? refuse(problem) : hub().complete(scope, key(job, id), ok, extra, sendOptions(options));
    },
    withHub: (other) => bind(record, resources, topics, other),
  };
}
