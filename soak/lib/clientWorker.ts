/**
 * A client process of the soak harness: many raw SSE streams (node:http, one
 * socket each, no agent pooling), parsed with EventSource's rules and the
 * tRPC SSE protocol, driven by the runner over IPC. Runs in its own process
 * so its CPU does not count against the server's figures.
 *
 * Each stream behaves like `httpSubscriptionLink`: it resends its last cursor
 * as `input.lastEventId` when it reconnects. Everything a stream receives is
 * recorded for the oracles (sequence numbers, resets) and checked on arrival
 * against the stream's own scope, groups and topics when isolation is on.
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import {
  epochOf,
  epochs,
  errorCode,
  errorSamples,
  latency,
  now,
  resetReasons,
  resumeConnect,
  resumeFirst,
  resumeHello,
  sample,
  seqOf,
  serializedErrors,
  totals,
  violationSamples,
} from './clientTotals';
import { EventSourceStream } from './eventSourceStream';
import { compareWithRecord, inScope, ReceivedLog, type Position, type PublishedEntry } from './oracle';
import { emptyVerify, LIVE_STREAM_PATH as PATH, type RoundReport, type ChaosOptions, type ClientCommand, type ClientStats, type ClientTransport, type ReconnectPolicy, type StreamSpec, type VerifyResult } from './protocol';
import { SseParser, type SseEvent } from './sse';
import { mulberry32 } from './random';

// A reset socket makes node:http's client build an ECONNRESET error whose stack stream destroy() formats; under
// tsx that goes through source maps (findSourceMap, pathToFileURL per frame): ~50 µs per stream of a client
// process's CPU in a 4,000-stream reset storm (client CPU profile, 2026-12-07), on the cores the server under test
// needs. The harness's own errors then name the transpiled positions, which tsx keeps close to the source.
process.setSourceMapsEnabled(false);

let baseUrl = new URL('http://127.0.0.1:3000');
let latencyFlow: string | null = null;
let checkIsolation = false;
let policy: ReconnectPolicy | null = null;
let transport: ClientTransport = 'raw';

type ChaosState = 'idle' | 'down' | 'stalled' | 'paused';

class Stream {
  /** Data frames and resets by epoch: what the coverage oracle reads. */
  readonly received = new ReceivedLog();
  /** Epoch of the current connection (its hello). */
  private epoch = '';
  resets = 0;
  data = 0;
  violations = 0;
  hellos = 0;
  lastEventId = '';
  connectionId: string | null = null;
  connected = false;
  /** Set by us before we end the socket: not an unexpected end. */
  private intentional = false;
  private attempt = 0;
  /** The current attempt resent a cursor (`input.lastEventId`). */
  private sentCursor = false;
  private req: ClientRequest | null = null;
  private res: IncomingMessage | null = null;
  private retryMs: number | null = null;
  /** When the current attempt's TCP connect completed (`null` until it did). */
  private tcpAt: number | null = null;
  /** When the last unexpected end (or chaos cut) happened; cleared once resumed. */
  private goneAt: number | null = null;
  private awaitingFirst = false;
  private stalled = false;
  chaos: ChaosState = 'idle';
  /** Resolves the pending `open`: true on hello, false on failure. */
  private opened: ((ok: boolean) => void) | null = null;
  failed = false;
  ended = false;
  /** Closed for good by the runner (`close`): no longer expected to be connected. */
  retired = false;
  /** Number of the last fan-out round this stream counted in. */
  roundSeen = 0;

  /** Timeline of this stream (connects, hellos, frames, chaos), kept when SOAK_TRACE is set; for diagnosing a gap. */
  readonly trace: string[] | null = process.env.SOAK_TRACE ? [] : null;

  constructor(readonly spec: StreamSpec) {}

  note(text: string): void {
    if (this.trace && this.trace.length < 5000) this.trace.push(`${(now() % 100_000).toFixed(1)} ${text}`);
  }


  open(): Promise<boolean> {
    return new Promise((resolve) => {
      this.opened = resolve;
      this.connect();
    });
  }

  private settleOpen(ok: boolean): void {
    const done = this.opened;
    this.opened = null;
    done?.(ok);
  }

  connect(): void {
    const attempt = ++this.attempt;
    this.intentional = false;
    this.connected = false;
    this.ended = false;
    const topics = this.spec.view.topics;
    this.sentCursor = this.lastEventId !== '';
    const input = { ...(this.lastEventId ? { lastEventId: this.lastEventId } : {}), ...(topics?.length ? { topics } : {}) };
    this.note(`connect #${attempt} lastEventId=${this.lastEventId}`);
    const query = Object.keys(input).length ? `?input=${encodeURIComponent(JSON.stringify({ json: input }))}` : '';
    const parser = new SseParser((event) => this.onEvent(event, attempt), this.lastEventId);
    const plain = this.spec.server;
    const target = plain ? new URL(plain.url) : baseUrl;
    const req = request({
      host: target.hostname,
      port: target.port,
      path: plain ? plain.path : PATH + query,
      headers: plain ? { accept: 'text/event-stream' } : { cookie: this.spec.cookie, accept: 'text/event-stream' },
      agent: false,
    });
    this.req = req;
    this.tcpAt = null;
    req.once('socket', (socket) =>
      socket.once('connect', () => {
        if (attempt === this.attempt) this.tcpAt = now();
      }),
    );
    req.on('response', (res) => {
      if (attempt !== this.attempt) return void res.destroy();
      this.res = res;
      if (res.statusCode !== 200) {
        this.fail(`HTTP ${res.statusCode}`);
        res.resume();
        return;
      }
      res.setEncoding('utf8');
      if (this.stalled) res.pause();
      res.on('data', (chunk: string) => {
        parser.feed(chunk);
        this.lastEventId = parser.lastEventId;
        if (parser.retryMs !== null) this.retryMs = parser.retryMs;
      });
      res.on('end', () => this.gone(attempt, 'end'));
      res.on('close', () => this.gone(attempt, 'close'));
      res.on('error', () => this.gone(attempt, 'error'));
    });
    req.on('error', (error) => {
      if (attempt !== this.attempt) return;
      if (!this.connected && !this.intentional && this.opened) {
        this.fail(`socket: ${(error as NodeJS.ErrnoException).code ?? error.message}`);
        return;
      }
      this.gone(attempt, 'error');
    });
    req.end();
  }

  fail(reason: string): void {
    if (this.failed) return;
    this.failed = true;
    totals.openErrors++;
    sample(errorSamples, `stream ${this.spec.key}: ${reason}`);
    this.teardown('end');
    this.settleOpen(false);
  }

  private onEvent(event: SseEvent, attempt: number): void {
    if (attempt !== this.attempt) return;
    if (round !== null && this.roundSeen !== round.no && event.type === 'message' && this.inRound(round.plain) && event.data.includes(round.marker)) {
      this.roundSeen = round.no;
      roundHit(round);
    }
    if (this.spec.server && event.type === this.spec.server.readyEvent && !this.connected) {
      // A plain server's readiness stands for the app's hello (no epoch, no cursor).
      this.hellos++;
      this.connected = true;
      this.settleOpen(true);
      return;
    }
    switch (event.type) {
      case 'message':
        return this.onMessage(event.data, event.lastEventId);
      case 'serialized-error': {
        const code = errorCode(event.data);
        serializedErrors[code] = (serializedErrors[code] ?? 0) + 1;
        if (!this.connected) this.fail(`serialized-error ${code}`);
        else this.teardown('end');
        return;
      }
      case 'return':
        this.teardown('end');
        return;
      default:
        return; // connected, ping, restore-id
    }
  }

  private onMessage(data: string, id: string): void {
    let message: { kind: string; seq?: number; reason?: string; epoch?: string; connectionId?: string; hint?: Record<string, unknown> };
    try {
      message = (JSON.parse(data) as { json: typeof message }).json;
    } catch {
      sample(errorSamples, `stream ${this.spec.key}: unparsable frame ${data.slice(0, 80)}`);
      return;
    }
    const at = now();
    this.note(`frame ${message.kind} seq=${message.seq ?? ''} id=${this.lastEventId}`);
    switch (message.kind) {
      case 'hello':
        this.hellos++;
        this.connected = true;
        this.connectionId = message.connectionId ?? null;
        if (message.epoch) {
          epochs.add(message.epoch);
          this.epoch = message.epoch;
          this.received.meet(message.epoch);
          // A stream that came without a cursor starts at the head its hello names: its window opens there.
          if (!this.sentCursor && Number.isFinite(seqOf(id))) this.received.open(epochOf(id, message.epoch), seqOf(id));
        }
        if (this.goneAt !== null) {
          resumeHello.add(at - this.goneAt);
          if (this.tcpAt !== null) resumeConnect.add(this.tcpAt - this.goneAt);
          this.awaitingFirst = true;
        }
        this.settleOpen(true);
        return;
      case 'reconnect':
        return;
      case 'reset':
        this.resets++;
        resetReasons[message.reason ?? '?'] = (resetReasons[message.reason ?? '?'] ?? 0) + 1;
        this.received.addReset(epochOf(id, this.epoch), message.seq ?? 0);
        this.resumed(at, 'reset');
        return;
      default: {
        this.data++;
        if (typeof message.seq === 'number') this.received.addData(epochOf(id, this.epoch), message.seq);
        this.resumed(at, 'data');
        const hint = message.hint;
        if (!hint) return;
        if (latencyFlow !== null && hint.f === latencyFlow && typeof hint.t === 'number' && this.spec.recordLatency !== false) {
          latency.add(at - hint.t);
        }
        if (checkIsolation && typeof hint.s === 'string') {
          const entry = { scope: hint.s, topic: String(hint.tp), groups: hint.g as Record<string, string> | undefined };
          if (!inScope(this.spec.checkView ?? this.spec.view, entry)) {
            totals.violations++;
            this.violations++;
            sample(violationSamples, `stream ${this.spec.key} (${JSON.stringify(this.spec.view)}) got ${JSON.stringify(hint)}`);
          }
        }
      }
    }
  }

  /** Whether this stream belongs to a round's population: open, and of the server kind (`plain` or the app) the round is for. */
  inRound(plain: boolean): boolean {
    return this.connected && !this.retired && (this.spec.server !== undefined) === plain;
  }

  private resumed(at: number, by: 'reset' | 'data'): void {
    if (!this.awaitingFirst || this.goneAt === null) return;
    resumeFirst.add(at - this.goneAt);
    totals.resumedBy[by]++;
    this.awaitingFirst = false;
    this.goneAt = null;
  }

  private gone(attempt: number, why: string): void {
    if (attempt !== this.attempt || this.ended) return;
    this.note(`gone #${attempt} (${why})`);
    this.ended = true;
    const wasConnected = this.connected;
    this.connected = false;
    if (this.intentional || this.failed) return;
    totals.unexpectedEnds++;
    this.goneAt ??= now();
    if (!wasConnected && this.opened) {
      // Ended before its hello: an open failure unless the policy reconnects.
      if (!policy) return this.fail('ended before hello');
    }
    if (!policy) return;
    const delay = (policy.honorRetry && this.retryMs !== null ? this.retryMs : policy.delayMs) + Math.random() * (policy.jitterMs ?? 0);
    this.retryMs = null;
    const reconnectAttempt = this.attempt;
    setTimeout(() => {
      if (reconnectAttempt !== this.attempt || this.intentional) return;
      totals.reconnects++;
      this.connect();
    }, delay);
  }

  /** Ends the current socket on purpose: `rst` resets it (abrupt), `end` destroys it. */
  teardown(mode: 'rst' | 'end'): void {
    this.intentional = true;
    this.connected = false;
    this.ended = true;
    const socket = this.req?.socket;
    if (mode === 'rst' && socket && typeof socket.resetAndDestroy === 'function' && !socket.destroyed) socket.resetAndDestroy();
    else this.req?.destroy();
    this.req = null;
    this.res = null;
  }

  /** Chaos: cut the connection now and come back with the cursor later. */
  cut(): void {
    this.note('chaos: cut');
    this.goneAt = now();
    this.teardown('rst');
  }

  reconnect(): void {
    totals.reconnects++;
    this.connect();
  }

  stall(on: boolean): void {
    this.note(`stall ${on}`);
    this.stalled = on;
    if (on) this.res?.pause();
    else this.res?.resume();
  }
}

// ---- fan-out rounds (capacity: time until the last stream has one event) ------

interface Round {
  readonly no: number;
  readonly marker: string;
  readonly plain: boolean;
  readonly of: number;
  done: number;
  firstAt: number;
  lastAt: number;
  finished: (() => void) | null;
}

let round: Round | null = null;
let roundNo = 0;

function roundHit(r: Round): void {
  const at = now();
  if (r.done === 0) r.firstAt = at;
  r.lastAt = at;
  if (++r.done === r.of) r.finished?.();
}

function arm(marker: string, plain: boolean): { of: number } {
  let of = 0;
  for (const s of streams.values()) if (s instanceof Stream && s.inRound(plain)) of++;
  round = { no: ++roundNo, marker, plain, of, done: 0, firstAt: 0, lastAt: 0, finished: null };
  return { of };
}

async function roundWait(timeoutMs: number): Promise<RoundReport> {
  const r = round;
  if (!r) throw new Error('no round armed');
  if (r.done < r.of) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      r.finished = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  round = null;
  return { done: r.done, of: r.of, firstAt: r.firstAt, lastAt: r.lastAt };
}

/** A stream of either client implementation: what open, stats, verify and close need. */
type AnyStream = Stream | EventSourceStream;

const streams = new Map<number, AnyStream>();

async function open(specs: readonly StreamSpec[], concurrency: number, timeoutMs: number) {
  let next = 0;
  let opened = 0;
  let failed = 0;
  const started = now();
  const worker = async () => {
    while (next < specs.length) {
      const spec = specs[next++]!;
      const stream = transport === 'eventsource' ? new EventSourceStream(spec, baseUrl) : new Stream(spec);
      streams.set(spec.key, stream);
      const ok = await Promise.race([
        stream.open(),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref()),
      ]);
      if (ok) opened++;
      else {
        failed++;
        stream.fail('no hello before the open timeout');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, specs.length)) }, worker));
  return { opened, failed, ms: now() - started };
}

function select(keys?: readonly number[]): AnyStream[] {
  if (!keys) return [...streams.values()];
  return keys.map((k) => streams.get(k)).filter((s): s is AnyStream => s !== undefined);
}

/** The raw streams among `keys`: cuts, stalls and chaos act on the socket, which only they own. */
function selectRaw(keys?: readonly number[]): Stream[] {
  const list = select(keys);
  const raw = list.filter((s): s is Stream => s instanceof Stream);
  if (raw.length !== list.length) throw new Error('cut, reconnect, stall and chaos act on raw streams only');
  return raw;
}

function stats(): ClientStats {
  let connected = 0;
  let withCursor = 0;
  let hellos = 0;
  let data = 0;
  let resets = 0;
  for (const s of streams.values()) {
    if (s.connected) connected++;
    if (s.lastEventId) withCursor++;
    hellos += s.hellos;
    data += s.data;
    resets += s.resets;
  }
  return {
    streams: streams.size,
    connected,
    withCursor,
    hellos,
    data,
    resets,
    resetReasons: { ...resetReasons },
    unexpectedEnds: totals.unexpectedEnds,
    reconnects: totals.reconnects,
    openErrors: totals.openErrors,
    errorSamples: [...errorSamples],
    serializedErrors: { ...serializedErrors },
    violations: totals.violations,
    violationSamples: [...violationSamples],
    chaos: { ...totals.chaos },
    resumedBy: { ...totals.resumedBy },
    epochs: [...epochs],
    latency: latency.toJSON(),
    resumeHello: resumeHello.toJSON(),
    resumeFirst: resumeFirst.toJSON(),
    resumeConnect: resumeConnect.toJSON(),
  };
}

/** The harness's record of publishes, in publish order, by tenant (set by the runner; see `setRecord`). */
let recordByScope = new Map<string, PublishedEntry[]>();

function setRecord(entries: readonly PublishedEntry[]): { entries: number } {
  recordByScope = new Map();
  for (const entry of entries) {
    let list = recordByScope.get(entry.scope);
    if (!list) recordByScope.set(entry.scope, (list = []));
    list.push(entry);
  }
  return { entries: entries.length };
}

/** Runs the record oracle on every stream that opened (or on `keys`), each window closed at `until` when given. */
function verify(keys?: readonly number[], until?: Position): VerifyResult {
  const result = emptyVerify();
  for (const stream of select(keys)) {
    if (stream.failed) continue;
    result.streams++;
    const verdict = compareWithRecord(recordByScope.get(stream.spec.view.scope) ?? [], stream.spec.view, stream.received, until);
    result.expected += verdict.expected;
    result.received += verdict.received;
    result.byReset += verdict.byReset;
    result.replaced += verdict.replaced;
    result.duplicates += verdict.duplicates;
    result.unexpected += verdict.unexpected;
    if (stream.resets) result.resetStreams++;
    if (!verdict.lost.length) continue;
    result.lostStreams++;
    result.lost += verdict.lost.length;
    for (const loss of verdict.lost) if (result.samples.length < 10) result.samples.push({ ...loss, stream: stream.spec.key });
  }
  return result;
}

async function waitConnected(timeoutMs: number): Promise<{ connected: number; of: number }> {
  const deadline = now() + timeoutMs;
  const live = () => [...streams.values()].filter((s) => !s.failed && !s.retired);
  while (live().some((s) => !s.connected) && now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const all = live();
  return { connected: all.filter((s) => s.connected).length, of: all.length };
}

// ---- chaos -------------------------------------------------------------------

let chaosTimer: ReturnType<typeof setInterval> | null = null;
const chaosTimers = new Set<ReturnType<typeof setTimeout>>();
const pending = new Set<Promise<unknown>>();

function later(ms: number, fn: () => void): void {
  const timer = setTimeout(() => {
    chaosTimers.delete(timer);
    fn();
  }, ms);
  chaosTimers.add(timer);
}

/** How long a refused `live.resume` is retried (after its `Retry-After`, else 250 ms) before the stream is left paused. */
const RESUME_RETRY_MS = 15_000;

/**
 * `live.pause` / `live.resume` through the app's own mutation, with the
 * stream's cookie. A refused resume (e.g. 429 from the per-user request
 * bound on a loaded machine: 20 of 1,610 calls in one run) is retried as an
 * app would retry it; left paused, the stream would rightly get nothing more.
 */
async function setPaused(stream: Stream, paused: boolean): Promise<boolean> {
  stream.note(`live.${paused ? 'pause' : 'resume'} ${stream.connectionId}`);
  const connectionId = stream.connectionId;
  if (!connectionId) return false;
  const deadline = now() + (paused ? 0 : RESUME_RETRY_MS);
  for (;;) {
    const res = await fetch(new URL(`/api/trpc/live.${paused ? 'pause' : 'resume'}`, baseUrl), {
      method: 'POST',
      headers: { cookie: stream.spec.cookie, origin: new URL(baseUrl).origin, 'content-type': 'application/json' },
      body: JSON.stringify({ json: { connectionId } }),
    });
    await res.arrayBuffer();
    if (res.ok) return true;
    sample(errorSamples, `stream ${stream.spec.key}: live.${paused ? 'pause' : 'resume'} answered ${res.status}`);
    // NOT_FOUND: that connection is gone (the stream reconnected since): nothing left paused.
    if (res.status === 404 || now() >= deadline) return false;
    const retryAfter = Number(res.headers.get('retry-after'));
    await new Promise((resolve) => setTimeout(resolve, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 250));
  }
}

function track<T>(promise: Promise<T>): void {
  const p = promise.catch(() => undefined).finally(() => pending.delete(p));
  pending.add(p);
}

const finishers = new Map<Stream, () => void>();

function startAction(stream: Stream, options: ChaosOptions, random: () => number): void {
  const r = random() * (options.disconnectPerSec + options.stallPerSec + options.pausePerSec);
  if (r < options.disconnectPerSec) {
    totals.chaos.disconnects++;
    stream.chaos = 'down';
    stream.cut();
    const finish = () => {
      finishers.delete(stream);
      stream.chaos = 'idle';
      stream.reconnect();
    };
    finishers.set(stream, finish);
    later(random() * options.maxDownMs, () => finishers.get(stream)?.());
  } else if (r < options.disconnectPerSec + options.stallPerSec) {
    totals.chaos.stalls++;
    stream.chaos = 'stalled';
    stream.stall(true);
    const finish = () => {
      finishers.delete(stream);
      stream.stall(false);
      stream.chaos = 'idle';
    };
    finishers.set(stream, finish);
    later(random() * options.maxStallMs, () => finishers.get(stream)?.());
  } else {
    totals.chaos.pauses++;
    stream.chaos = 'paused';
    const paused = setPaused(stream, true).then((ok) => {
      if (!ok) totals.chaos.pauseErrors++;
    });
    track(paused);
    const finish = () => {
      finishers.delete(stream);
      track(
        paused
          .then(() => setPaused(stream, false))
          .then((ok) => {
            if (!ok) totals.chaos.pauseErrors++;
          })
          .finally(() => (stream.chaos = 'idle')),
      );
    };
    finishers.set(stream, finish);
    later(random() * options.maxPauseMs, () => finishers.get(stream)?.());
  }
}

function chaosStart(options: ChaosOptions): void {
  const random = mulberry32(options.seed);
  const perTick = (options.disconnectPerSec + options.stallPerSec + options.pausePerSec) * (options.tickMs / 1000);
  const raw = selectRaw();
  chaosTimer = setInterval(() => {
    for (const stream of raw) {
      if (stream.failed || stream.retired || stream.chaos !== 'idle' || !stream.connected) continue;
      if (random() < perTick) startAction(stream, options, random);
    }
  }, options.tickMs);
}

async function chaosStop(timeoutMs: number) {
  if (chaosTimer) clearInterval(chaosTimer);
  chaosTimer = null;
  for (const timer of chaosTimers) clearTimeout(timer);
  chaosTimers.clear();
  for (const finish of [...finishers.values()]) finish();
  while (pending.size) await Promise.all([...pending]);
  return waitConnected(timeoutMs);
}

// ---- IPC ---------------------------------------------------------------------

async function handle(command: ClientCommand): Promise<unknown> {
  switch (command.type) {
    case 'init':
      baseUrl = new URL(command.url);
      transport = command.transport ?? 'raw';
      latencyFlow = command.latencyFlow ?? null;
      checkIsolation = command.checkIsolation ?? false;
      return { pid: process.pid };
    case 'open':
      return open(command.specs, command.concurrency, command.timeoutMs);
    case 'close': {
      const list = select(command.keys);
      for (const stream of list) {
        stream.retired = true;
        stream.teardown(command.mode);
      }
      return { closed: list.length };
    }
    case 'policy':
      policy = command.policy;
      return {};
    case 'stall':
      for (const stream of selectRaw(command.keys)) stream.stall(command.on);
      return {};
    case 'stats':
      return stats();
    case 'resumed':
      return resumeFirst.n;
    case 'resetLatency':
      latency.reset();
      return {};
    case 'counts':
      return [...streams.values()].map((s) => [s.spec.key, s.data, s.resets, s.violations] as const);
    case 'setRecord':
      return setRecord(command.entries);
    case 'verify':
      return verify(command.keys, command.until);
    case 'chaosStart':
      chaosStart(command.options);
      return {};
    case 'chaosStop':
      return chaosStop(command.timeoutMs);
    case 'waitConnected':
      return waitConnected(command.timeoutMs);
    case 'cut':
      for (const stream of selectRaw(command.keys)) stream.cut();
      return {};
    case 'reconnect':
      for (const stream of selectRaw(command.keys)) stream.reconnect();
      return {};
    case 'arm':
      return arm(command.marker, command.plain);
    case 'roundWait':
      return roundWait(command.timeoutMs);
    case 'trace': {
      const stream = streams.get(command.key);
      return stream instanceof Stream ? stream.trace : null;
    }
  }
}

process.on('message', (message: { id: number; command: ClientCommand }) => {
  handle(message.command).then(
    (result) => process.send!({ id: message.id, ok: true, result }),
    (error: unknown) => process.send!({ id: message.id, ok: false, error: String((error as Error)?.stack ?? error) }),
  );
});
process.on('disconnect', () => process.exit(0));
