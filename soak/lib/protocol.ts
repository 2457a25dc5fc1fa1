import type { HistogramData } from './histogram';
import type { Gap, StreamView, TappedEntry } from './oracle';

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
}

/** Oracle verdict of one client process. */
export interface VerifyResult {
  streams: number;
  keysChecked: number;
  gapStreams: number;
  gaps: number;
  samples: Array<Gap & { stream: number }>;
}

/** Requests the runner sends a client process. */
export type ClientCommand =
  | { readonly type: 'init'; readonly url: string; readonly latencyFlow?: string; readonly checkIsolation?: boolean }
  | { readonly type: 'open'; readonly specs: readonly StreamSpec[]; readonly concurrency: number; readonly timeoutMs: number }
  | { readonly type: 'close'; readonly keys?: readonly number[]; readonly mode: 'rst' | 'end' }
  | { readonly type: 'policy'; readonly policy: ReconnectPolicy | null }
  | { readonly type: 'stall'; readonly keys: readonly number[]; readonly on: boolean }
  | { readonly type: 'stats' }
  | { readonly type: 'resetLatency' }
  | { readonly type: 'counts' }
  | { readonly type: 'verify'; readonly entries: readonly TappedEntry[]; readonly afterSeq?: number; readonly keys?: readonly number[] }
  | { readonly type: 'chaosStart'; readonly options: ChaosOptions }
  | { readonly type: 'chaosStop'; readonly timeoutMs: number }
  | { readonly type: 'waitConnected'; readonly timeoutMs: number }
  | { readonly type: 'trace'; readonly key: number }
  /** Reset a stream's socket (TCP RST) as the network would, keeping its cursor for {@link reconnect}. */
  | { readonly type: 'cut'; readonly keys: readonly number[] }
  | { readonly type: 'reconnect'; readonly keys: readonly number[] };

export type { Gap, StreamView, TappedEntry };
