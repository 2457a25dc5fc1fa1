import type { HistogramData } from './histogram';
import type { Loss, Position, PublishedEntry, StreamView } from './oracle';

/** The live stream's tRPC path (what httpSubscriptionLink requests for `live.stream`). */
export const LIVE_STREAM_PATH = '/api/trpc/live.stream';

/** One live stream a client process opens. */
export interface StreamSpec {
  /** Unique across the whole pool; the runner's handle on this stream. */
  readonly key: number;
  /** `live_session=…` cookie (a session token for `view`). */
  readonly cookie: string;
  /** Tenant, groups and topic bounds (the `topics` input is taken from `view.topics`). */
  readonly view: StreamView;
  /**
   * What the isolation check holds this stream's frames against. @default `view`
   * (a narrower one makes a canary: a stream that must report violations, proving the check catches leaks)
   */
  readonly checkView?: StreamView;
  /** Count this stream's latency-flow signals in the latency histogram. @default true */
  readonly recordLatency?: boolean;
  /**
   * A plain SSE server instead of the app (the transport bench's bare
   * servers, for a side-by-side baseline): the stream opens `url` + `path`
   * without a cookie or input and counts as open on `readyEvent`, not on a
   * hello. Its frames go through the same parser and round counting as the
   * app's. @default the app (`init`'s url, the live stream's path, ready on hello)
   */
  readonly server?: PlainSseServer;
}

/** A plain SSE endpoint a stream can open instead of the app's live stream ({@link StreamSpec.server}). */
export interface PlainSseServer {
  /** Base URL, e.g. `http://127.0.0.1:4000`. */
  readonly url: string;
  /** Request path, e.g. `/sse`. */
  readonly path: string;
  /** SSE event type the server sends once the stream is registered, e.g. `ready`. */
  readonly readyEvent: string;
}

/** What a client process reports for one fan-out round ({@link ClientCommand} `arm` / `roundWait`). */
export interface RoundReport {
  /** Streams of the round's population that got a message containing the marker. */
  readonly done: number;
  /** Streams of that population open when the round was armed. */
  readonly of: number;
  /** Wall-clock ms (performance.timeOrigin based) of the first and the last stream's arrival; 0 when none. */
  readonly firstAt: number;
  readonly lastAt: number;
}

/** What a client process does when a stream ends without being asked to. */
export interface ReconnectPolicy {
  /** Delay before reconnecting, ms (plus up to `jitterMs`); the server's `retry:` wins when `honorRetry`. */
  readonly delayMs: number;
  readonly jitterMs?: number;
  readonly honorRetry?: boolean;
}

/** Random disconnects, socket stalls and app-level pauses (live.pause) while it runs. */
export interface ChaosOptions {
  /** Scheduler period, ms. */
  readonly tickMs: number;
  /** Per idle stream and second: chance to be cut (RST) and come back with its cursor after 0..maxDownMs. */
  readonly disconnectPerSec: number;
  /** Per idle stream and second: chance to stop reading its socket for 0..maxStallMs. */
  readonly stallPerSec: number;
  /** Per idle stream and second: chance to be paused through `live.pause` for 0..maxPauseMs. */
  readonly pausePerSec: number;
  readonly maxDownMs: number;
  readonly maxStallMs: number;
  readonly maxPauseMs: number;
  readonly seed: number;
}

/** Totals of one client process (or of the pool, summed). */
export interface ClientStats {
  streams: number;
  /** Streams that have their hello on the current attempt. */
  connected: number;
  /** Streams holding a cursor (an SSE id), which they would resend on a reconnect. */
  withCursor: number;
  hellos: number;
  data: number;
  resets: number;
  resetReasons: Record<string, number>;
  /** Streams ended by the server or the network, not by us. */
  unexpectedEnds: number;
  reconnects: number;
  /** Failures to open (status, serialized-error before hello, socket errors). */
  openErrors: number;
  errorSamples: string[];
  /** `serialized-error` codes by code. */
  serializedErrors: Record<string, number>;
  /** Data frames outside the stream's scope/groups/topics (isolation oracle). */
  violations: number;
  violationSamples: string[];
  /** Chaos actions performed. */
  chaos: { disconnects: number; stalls: number; pauses: number; pauseErrors: number };
  /** Resumes after an unexpected end or a chaos cut: how the first frame after hello came. */
  resumedBy: { reset: number; data: number };
  epochs: string[];
  /** Publish → receive latency of the latency flow's signals. */
  latency: HistogramData;
  /** Time from a stream's end to its next hello / first data frame or reset. */
  resumeHello: HistogramData;
  resumeFirst: HistogramData;
  /** Time from a stream's end to the TCP connect of the attempt that got its next hello (raw streams). */
  resumeConnect: HistogramData;
}

/** The record oracle's verdict over the streams of one client process (or of the pool, summed). */
export interface VerifyResult {
  /** Streams judged. */
  streams: number;
  /** (stream, publish) pairs the record says the streams may receive within their windows. */
  expected: number;
  /** ... that arrived. */
  received: number;
  /** ... covered by a reset the stream received. */
  byReset: number;
  /** ... replaced by a later publish of the same key that arrived or was covered. */
  replaced: number;
  /** ... lost: none of the above. */
  lost: number;
  /** Streams with at least one loss. */
  lostStreams: number;
  /** Data frames received twice or more. */
  duplicates: number;
  /** Data frames within a window that the record does not hold for that stream. */
  unexpected: number;
  /** Streams that received a reset. */
  resetStreams: number;
  samples: Array<Loss & { stream: number }>;
}

/** A verdict of no stream: the sum's identity. */
export const emptyVerify = (): VerifyResult => ({
  streams: 0,
  expected: 0,
  received: 0,
  byReset: 0,
  replaced: 0,
  lost: 0,
  lostStreams: 0,
  duplicates: 0,
  unexpected: 0,
  resetStreams: 0,
  samples: [],
});

/** Which client implementation a client process runs. */
export type ClientTransport =
  /** Raw SSE over `node:http`, reconnecting by the runner's {@link ReconnectPolicy}: cheap, so thousands fit in a process. */
  | 'raw'
  /** The `eventsource` package (v4, WHATWG EventSource over fetch), reconnecting by itself after its own retry delay. */
  | 'eventsource';

/** Requests the runner sends a client process. */
export type ClientCommand =
  | {
      readonly type: 'init';
      readonly url: string;
      readonly latencyFlow?: string;
      readonly checkIsolation?: boolean;
      /** @default 'raw' */
      readonly transport?: ClientTransport;
    }
  | { readonly type: 'open'; readonly specs: readonly StreamSpec[]; readonly concurrency: number; readonly timeoutMs: number }
  | { readonly type: 'close'; readonly keys?: readonly number[]; readonly mode: 'rst' | 'end' }
  | { readonly type: 'policy'; readonly policy: ReconnectPolicy | null }
  | { readonly type: 'stall'; readonly keys: readonly number[]; readonly on: boolean }
  | { readonly type: 'stats' }
  /** Resumes counted so far (`resumeFirst.n`): what a storm's wait polls, without shipping three histograms. */
  | { readonly type: 'resumed' }
  | { readonly type: 'resetLatency' }
  | { readonly type: 'counts' }
  /** The harness's record of publishes (in publish order) that `verify` judges against; replaces the previous one. */
  | { readonly type: 'setRecord'; readonly entries: readonly PublishedEntry[] }
  | { readonly type: 'verify'; readonly keys?: readonly number[]; readonly until?: Position }
  | { readonly type: 'chaosStart'; readonly options: ChaosOptions }
  | { readonly type: 'chaosStop'; readonly timeoutMs: number }
  | { readonly type: 'waitConnected'; readonly timeoutMs: number }
  | { readonly type: 'trace'; readonly key: number }
  /** Reset a stream's socket (TCP RST) as the network would, keeping its cursor for {@link reconnect}. */
  | { readonly type: 'cut'; readonly keys: readonly number[] }
  | { readonly type: 'reconnect'; readonly keys: readonly number[] }
  /**
   * Starts a fan-out round: every open stream of the population (`plain`:
   * those with a {@link StreamSpec.server}, else the app's) counts the first
   * message whose data contains `marker`, at the moment its parser dispatches it.
   */
  | { readonly type: 'arm'; readonly marker: string; readonly plain: boolean }
  /** Resolves with the armed round's {@link RoundReport} once every stream of it counted, or after `timeoutMs`; ends the round. */
  | { readonly type: 'roundWait'; readonly timeoutMs: number };

export type { Loss, Position, PublishedEntry, StreamView };
