import { Redis, type RedisOptions } from 'ioredis';
import { newEpoch, type PublishRequest } from '../core/index.ts';
import { encodeRequest, GAP_MESSAGE, type SignalIdentity } from './entryCodec.ts';
import type { RedisBackendSettings } from './options.ts';
import { after } from './publishDeadlines.ts';
import { HELLO_SCRIPT, PUBLISH_SCRIPT, SINCE_SCRIPT } from './scripts.ts';

interface LiveCommands {
  livePublish(...args: (string | number)[]): Promise<[string, number]>;
  liveSince(...args: (string | number)[]): Promise<[string, string[]?]>;
  liveHello(...args: (string | number)[]): Promise<[string, number]>;
}

/** What `SINCE_SCRIPT` answers: `ok` and the entries newest first (four strings each: id, payload, origin, serial), or the reset reason. */
export type SinceReply = Awaited<ReturnType<LiveCommands['liveSince']>>;

/** Longest a command on the publishing connection waits before it fails (see `commandTimeoutMs`). */
const COMMAND_BACKSTOP_MS = 10_000;

/** Longest `close()` waits for Redis to acknowledge QUIT before it closes the sockets. */
const QUIT_WAIT_MS = 50;

/** Seconds a process's highest serial is kept in Redis after its last publish (see PUBLISH_SCRIPT). */
const ORIGIN_TTL_S = 86_400;

/** What the link reports to the backend (see {@link RedisLink.listen}). */
export interface LinkEvents {
  /** A connection failed (ioredis retries by itself). */
  error(message: string): void;
  /** A connection closed; `subscriber` when it was the subscription's. */
  closed(which: 'command' | 'subscriber'): void;
  /** A connection is ready (again): time to (re)join. */
  ready(): void;
  /** A message arrived on a subscribed channel. */
  message(channel: string, message: string): void;
}

/**
 * The backend's two Redis connections and every command it sends, with the
 * keys spelled in one place: a command connection (scripts, PING, twin
 * marks) and, unless publish-only, a subscriber on the channel. Only this
 * module (with the backend that creates it) touches ioredis.
 */
export class RedisLink {
  /** The channel carrying every entry (and {@link GAP_MESSAGE}) to every instance. */
  readonly channel: string;
  private readonly cmd: Redis & LiveCommands;
  private readonly sub: Redis | null;
  private readonly keys: { epoch: string; seq: string; floor: string; origin: string; twins: string };

  constructor(
    private readonly settings: RedisBackendSettings,
    /** This backend's identity (see `SignalIdentity`). */
    private readonly origin: string,
  ) {
    const { prefix, commandTimeoutMs, url } = settings;
    this.keys = {
      epoch: `${prefix}:epoch`,
      seq: `${prefix}:seq`,
      floor: `${prefix}:floor`,
      origin: `${prefix}:o:${origin}`,
      /** Prefix of each origin's highest serial that may have a twin (see SINCE_SCRIPT). */
      twins: `${prefix}:t:`,
    };
    this.channel = `${prefix}:signals`;
    const connectionOptions: RedisOptions = {
      // Fail fast: a publish must never wait for Redis; it falls back to local delivery.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: commandTimeoutMs,
      connectTimeout: 2000,
      // Subscription state is ours: we resubscribe and signal the gap ourselves.
      autoResubscribe: false,
      retryStrategy: settings.backoff,
      ...settings.redisOptions,
    };
    this.cmd = new Redis(url, {
      ...connectionOptions,
      // Only a backstop for commands on this connection: a burst of 20,000 publishes from one process
      // kept the last one waiting 1-2 s on a loaded machine while Redis answered throughout, and a
      // 500 ms command timeout failed hundreds of them and made the instance fall back for nothing.
      // Silence is what `unreachableAfterMs` watches; replay reads get their own `commandTimeoutMs`.
      commandTimeout: Math.max(commandTimeoutMs, COMMAND_BACKSTOP_MS),
      connectionName: `${prefix}-live-cmd`,
    }) as Redis & LiveCommands;
    this.cmd.defineCommand('livePublish', { numberOfKeys: 5, lua: PUBLISH_SCRIPT });
    this.cmd.defineCommand('liveSince', { numberOfKeys: 4, lua: SINCE_SCRIPT });
    this.cmd.defineCommand('liveHello', { numberOfKeys: 2, lua: HELLO_SCRIPT });
    this.sub = settings.subscribe ? new Redis(url, { ...connectionOptions, connectionName: `${prefix}-live-sub` }) : null;
  }

  /** Has a subscriber (not publish-only). */
  get subscribes(): boolean {
    return this.sub !== null;
  }

  /** The command connection can take commands now. */
  get commandReady(): boolean {
    return this.cmd.status === 'ready';
  }

  /** Every connection is ready: the backend can join. */
  get ready(): boolean {
    return this.commandReady && (!this.sub || this.sub.status === 'ready');
  }

  /** Reports the connections' events (call once). */
  listen(events: LinkEvents): void {
    const onError = (error: Error) => events.error(error.message);
    this.cmd.on('error', onError);
    this.cmd.on('close', () => events.closed('command'));
    this.cmd.on('ready', () => events.ready());
    if (this.sub) {
      this.sub.on('error', onError);
      this.sub.on('close', () => events.closed('subscriber'));
      this.sub.on('ready', () => events.ready());
      this.sub.on('message', (from: string, message: string) => events.message(from, message));
    }
  }

  /** Subscribes the subscriber connection to the channel (nothing when publish-only). */
  async subscribe(): Promise<void> {
    await this.sub?.subscribe(this.channel);
  }

  /** The shared epoch (created if Redis holds none). */
  async hello(): Promise<string> {
    const [epoch] = await this.cmd.liveHello(this.keys.epoch, this.keys.seq, newEpoch(this.settings.now()));
    return epoch;
  }

  /** Runs PUBLISH_SCRIPT: `[epoch, seq]`, seq 0 when Redis holds this identity already. */
  publish(request: PublishRequest, identity: SignalIdentity): Promise<[string, number]> {
    const { keys, settings } = this;
    return this.cmd.livePublish(
      keys.epoch,
      keys.seq,
      this.streamKey(request.scope),
      keys.floor,
      keys.origin,
      newEpoch(settings.now()),
      this.channel,
      request.scope,
      encodeRequest(request, identity),
      settings.maxLen,
      settings.slack,
      request.key ?? '',
      identity.serial,
      ORIGIN_TTL_S,
      this.origin,
    );
  }

  /** Runs SINCE_SCRIPT for `scope` after `epoch:afterSeq`. */
  since(scope: string, epoch: string, afterSeq: number): Promise<SinceReply> {
    const { keys } = this;
    return this.cmd.liveSince(keys.epoch, keys.seq, this.streamKey(scope), keys.floor, epoch, afterSeq, scope, keys.twins);
  }

  /** Records that this origin's serials up to `upTo` may have a twin (see SINCE_SCRIPT). */
  async markTwins(upTo: number): Promise<void> {
    await this.cmd.set(`${this.keys.twins}${this.origin}`, upTo, 'EX', ORIGIN_TTL_S);
  }

  /** Makes every instance reset its clients. */
  async publishGap(): Promise<void> {
    await this.cmd.publish(this.channel, GAP_MESSAGE);
  }

  /** A PING on the command connection (see `HealthPing`). */
  async ping(): Promise<void> {
    await this.cmd.ping();
  }

  /** Closes both connections, giving QUIT at most QUIT_WAIT_MS. */
  async close(): Promise<void> {
    await Promise.all(
      [this.cmd, this.sub].map(async (connection) => {
        if (!connection) return;
        // QUIT waits behind whatever is queued on the connection: a frozen or slow Redis must
        // not hold up a drain, so it gets QUIT_WAIT_MS, then the socket is closed.
        if (connection.status === 'ready') {
          await Promise.race([connection.quit().catch(() => undefined), new Promise((resolve) => after(QUIT_WAIT_MS, () => resolve(null)))]);
        }
        connection.disconnect();
      }),
    );
  }

  /** One stream per scope, entry ids `<seq>-0` (see scripts.ts). */
  private streamKey(scope: string): string {
    return `${this.settings.prefix}:s:${scope}`;
  }
}
