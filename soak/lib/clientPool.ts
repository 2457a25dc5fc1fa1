import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Histogram } from './histogram';
import { emptyVerify, type ChaosOptions, type ClientCommand, type ClientStats, type ClientTransport, type Position, type PublishedEntry, type ReconnectPolicy, type RoundReport, type StreamSpec, type VerifyResult } from './protocol';

const here = import.meta.dirname;

/** One client process and its request/response channel. */
class ClientProcess {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited: Error | null = null;

  constructor(readonly child: ChildProcess) {
    child.on('message', (message: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const waiter = this.waiting.get(message.id);
      if (!waiter) return;
      this.waiting.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`client process: ${message.error}`));
    });
    child.on('exit', (code, signal) => {
      this.exited = new Error(`client process exited (${code ?? signal})`);
      for (const waiter of this.waiting.values()) waiter.reject(this.exited);
      this.waiting.clear();
    });
  }

  send<T>(command: ClientCommand, timeoutMs = 120_000): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`client process: '${command.type}' got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, command });
    });
  }
}

/** Options of {@link createClientPool}. */
export interface ClientPoolOptions {
  /** Base URL of the server. */
  readonly url: string;
  /** Client processes. @default 2 */
  readonly processes?: number;
  /** Flow whose publish → receive latency the clients record. @default none */
  readonly latencyFlow?: string;
  /** Check every data frame against the stream's scope, groups and topics. @default false */
  readonly checkIsolation?: boolean;
  /** Client implementation of every stream in this pool. @default 'raw' */
  readonly transport?: ClientTransport;
}


/** Verdicts of several processes or pools, added up. */
export function sumVerify(parts: readonly VerifyResult[]): VerifyResult {
  const total = emptyVerify();
  for (const part of parts) {
    for (const field of ['streams', 'expected', 'received', 'byReset', 'replaced', 'lost', 'lostStreams', 'duplicates', 'unexpected', 'resetStreams'] as const) {
      total[field] += part[field];
    }
    total.samples.push(...part.samples.slice(0, 10 - total.samples.length));
  }
  return total;
}

/** Pool totals: the processes' {@link ClientStats} summed, histograms merged. */
export interface PoolStats extends Omit<ClientStats, 'latency' | 'resumeHello' | 'resumeFirst' | 'resumeConnect'> {
  readonly latency: Histogram;
  readonly resumeHello: Histogram;
  readonly resumeFirst: Histogram;
  readonly resumeConnect: Histogram;
}

/**
 * Raw SSE clients spread over child processes (each stream lives in the
 * process `key % processes`). Every call is bounded by a timeout.
 */
export async function createClientPool(options: ClientPoolOptions) {
  const count = Math.max(1, options.processes ?? 2);
  const processes = Array.from(
    { length: count },
    () =>
      new ClientProcess(
        fork(path.join(here, 'clientWorker.ts'), [], {
          // SOAK_CLIENT_CPU_PROF=<dir>: each client process writes a CPU profile there when it exits (the harness's own cost).
          execArgv: [
            '--import',
            'tsx',
            '--max-old-space-size=2048',
            ...(process.env.SOAK_CLIENT_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SOAK_CLIENT_CPU_PROF}`] : []),
          ],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        }),
      ),
  );
  await Promise.all(
    processes.map((p) =>
      p.send(
        { type: 'init', url: options.url, latencyFlow: options.latencyFlow, checkIsolation: options.checkIsolation, transport: options.transport },
        30_000,
      ),
    ),
  );
  const owner = (key: number) => processes[key % count]!;
  const byProcess = <T extends { key: number }>(items: readonly T[]) => {
    const groups = processes.map(() => [] as T[]);
    for (const item of items) groups[item.key % count]!.push(item);
    return groups;
  };
  const keysByProcess = (keys: readonly number[]) => {
    const groups = processes.map(() => [] as number[]);
    for (const key of keys) groups[key % count]!.push(key);
    return groups;
  };
  let sentRecord: readonly PublishedEntry[] | null = null;
  const all = <T>(command: ClientCommand, timeoutMs?: number) => Promise.all(processes.map((p) => p.send<T>(command, timeoutMs)));

  return {
    processes: count,
    /** The client processes' ids (to read their CPU time). */
    pids: processes.map((p) => p.child.pid),
    /** Opens streams (at most `concurrency` connecting at once per process); resolves when each has its hello or failed. */
    async open(specs: readonly StreamSpec[], concurrency = 200, timeoutMs = 30_000) {
      const results = await Promise.all(
        byProcess(specs).map((group, i) =>
          group.length
            ? processes[i]!.send<{ opened: number; failed: number; ms: number }>(
                { type: 'open', specs: group, concurrency, timeoutMs },
                timeoutMs * Math.ceil(group.length / concurrency) + 30_000,
              )
            : { opened: 0, failed: 0, ms: 0 },
        ),
      );
      return {
        opened: results.reduce((n, r) => n + r.opened, 0),
        failed: results.reduce((n, r) => n + r.failed, 0),
        ms: Math.max(...results.map((r) => r.ms)),
      };
    },
    /** Ends streams on purpose (no reconnect): `rst` is an abrupt TCP reset. */
    async close(mode: 'rst' | 'end', keys?: readonly number[]) {
      if (!keys) return all({ type: 'close', mode });
      return Promise.all(keysByProcess(keys).map((group, i) => (group.length ? processes[i]!.send({ type: 'close', mode, keys: group }) : null)));
    },
    policy: (policy: ReconnectPolicy | null) => all({ type: 'policy', policy }),
    stall: (keys: readonly number[], on: boolean) =>
      Promise.all(keysByProcess(keys).map((group, i) => (group.length ? processes[i]!.send({ type: 'stall', keys: group, on }) : null))),
    /** Resets streams' sockets as the network would; they keep their cursor for {@link reconnect}. */
    cut: (keys: readonly number[]) =>
      Promise.all(keysByProcess(keys).map((group, i) => (group.length ? processes[i]!.send({ type: 'cut', keys: group }) : null))),
    /** Reconnects cut streams, each with its last cursor (as httpSubscriptionLink would). */
    reconnect: (keys: readonly number[]) =>
      Promise.all(keysByProcess(keys).map((group, i) => (group.length ? processes[i]!.send({ type: 'reconnect', keys: group }) : null))),
    resetLatency: () => all({ type: 'resetLatency' }),
    /**
     * Streams resumed so far (the sum of every process's \`resumeFirst.n\`). A storm's wait polls this every 100 ms:
     * {@link stats} serializes three 139,001-bucket histograms per process, ~70 ms of each client process's CPU
     * during a 4,000-stream storm (client CPU profile, 2026-12-07), on the cores the server needs.
     */
    async resumed(): Promise<number> {
      return (await all<number>({ type: 'resumed' })).reduce((n, r) => n + r, 0);
    },
    async stats(): Promise<PoolStats> {
      const parts = await all<ClientStats>({ type: 'stats' });
      const sum = (f: (s: ClientStats) => number) => parts.reduce((n, s) => n + f(s), 0);
      const merge = (f: (s: ClientStats) => Record<string, number>) => {
        const out: Record<string, number> = {};
        for (const part of parts) for (const [k, v] of Object.entries(f(part))) out[k] = (out[k] ?? 0) + v;
        return out;
      };
      const hist = (f: (s: ClientStats) => ClientStats['latency']) => {
        const h = new Histogram();
        for (const part of parts) h.merge(f(part));
        return h;
      };
      return {
        streams: sum((s) => s.streams),
        connected: sum((s) => s.connected),
        withCursor: sum((s) => s.withCursor),
        hellos: sum((s) => s.hellos),
        data: sum((s) => s.data),
        resets: sum((s) => s.resets),
        resetReasons: merge((s) => s.resetReasons),
        unexpectedEnds: sum((s) => s.unexpectedEnds),
        reconnects: sum((s) => s.reconnects),
        openErrors: sum((s) => s.openErrors),
        errorSamples: parts.flatMap((s) => s.errorSamples).slice(0, 20),
        serializedErrors: merge((s) => s.serializedErrors),
        violations: sum((s) => s.violations),
        violationSamples: parts.flatMap((s) => s.violationSamples).slice(0, 20),
        chaos: {
          disconnects: sum((s) => s.chaos.disconnects),
          stalls: sum((s) => s.chaos.stalls),
          pauses: sum((s) => s.chaos.pauses),
          pauseErrors: sum((s) => s.chaos.pauseErrors),
        },
        resumedBy: { reset: sum((s) => s.resumedBy.reset), data: sum((s) => s.resumedBy.data) },
        epochs: [...new Set(parts.flatMap((s) => s.epochs))],
        latency: hist((s) => s.latency),
        resumeHello: hist((s) => s.resumeHello),
        resumeFirst: hist((s) => s.resumeFirst),
        resumeConnect: hist((s) => s.resumeConnect),
      };
    },
    /** Per stream: data frames, resets, isolation violations. */
    async counts(): Promise<Map<number, { data: number; resets: number; violations: number }>> {
      const parts = await all<Array<[number, number, number, number]>>({ type: 'counts' });
      return new Map(parts.flat().map(([key, data, resets, violations]) => [key, { data, resets, violations }]));
    },
    /**
     * Runs the record oracle in every process (optionally on some streams
     * only, each window closed at `until`): `record` is the server's
     * {@link SoakServer.published} list, sent to a process only when it changed.
     */
    async verify(record: readonly PublishedEntry[], options: { keys?: readonly number[]; until?: Position } = {}): Promise<VerifyResult> {
      if (record !== sentRecord) {
        await all({ type: 'setRecord', entries: record });
        sentRecord = record;
      }
      const groups = options.keys ? keysByProcess(options.keys) : processes.map(() => undefined);
      const parts = await Promise.all(
        processes.map((p, i) =>
          options.keys && !groups[i]!.length
            ? emptyVerify()
            : p.send<VerifyResult>({ type: 'verify', ...(groups[i] ? { keys: groups[i] } : {}), ...(options.until ? { until: options.until } : {}) }),
        ),
      );
      return sumVerify(parts);
    },
    chaosStart: (options: ChaosOptions) => all({ type: 'chaosStart', options }),
    async chaosStop(timeoutMs = 30_000) {
      const parts = await all<{ connected: number; of: number }>({ type: 'chaosStop', timeoutMs }, timeoutMs + 30_000);
      return { connected: parts.reduce((n, p) => n + p.connected, 0), of: parts.reduce((n, p) => n + p.of, 0) };
    },
    async waitConnected(timeoutMs = 30_000) {
      const parts = await all<{ connected: number; of: number }>({ type: 'waitConnected', timeoutMs }, timeoutMs + 30_000);
      return { connected: parts.reduce((n, p) => n + p.connected, 0), of: parts.reduce((n, p) => n + p.of, 0) };
    },
    /**
     * Arms a fan-out round in every process: each open stream of the
     * population (`plain`: the streams opened on a {@link StreamSpec.server},
     * else the app's) counts the first message containing `marker`. Resolves
     * with the round's size once every process is armed.
     */
    async arm(marker: string, plain: boolean): Promise<number> {
      const parts = await all<{ of: number }>({ type: 'arm', marker, plain });
      return parts.reduce((n, p) => n + p.of, 0);
    },
    /** Waits for the armed round in every process (at most `timeoutMs`): streams that got it, of how many, first and last arrival. */
    async roundWait(timeoutMs: number): Promise<RoundReport> {
      const parts = await all<RoundReport>({ type: 'roundWait', timeoutMs }, timeoutMs + 30_000);
      const arrived = parts.filter((p) => p.done > 0);
      return {
        done: parts.reduce((n, p) => n + p.done, 0),
        of: parts.reduce((n, p) => n + p.of, 0),
        firstAt: arrived.length ? Math.min(...arrived.map((p) => p.firstAt)) : 0,
        lastAt: arrived.length ? Math.max(...arrived.map((p) => p.lastAt)) : 0,
      };
    },
    /** A stream's timeline (only with SOAK_TRACE set in the environment). */
    trace: (key: number) => owner(key).send<string[] | null>({ type: 'trace', key }),
    owner,
    /** Ends every client process. */
    async shutdown() {
      await Promise.all(
        processes.map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
              p.child.once('exit', () => resolve());
              if (!process.env.SOAK_CLIENT_CPU_PROF) return void p.child.kill('SIGKILL');
              // Profiling: a normal exit (the worker exits when its IPC channel closes) writes the profile.
              p.child.disconnect();
              setTimeout(() => p.child.kill('SIGKILL'), 10_000).unref();
            }),
        ),
      );
    },
  };
}

export type ClientPool = Awaited<ReturnType<typeof createClientPool>>;
