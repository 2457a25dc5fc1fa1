import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
// @ts-expect-error -- plain ESM script without types
import { ensureBuild } from '../../scripts/ensure-build.mjs';
import { SERVER_NODE_FLAGS } from '../../scripts/serverFlags.mjs';
import { inPublishOrder, toPublished, type PublishedEntry, type RawPublish } from './oracle';
import { freePort } from '../../test/helpers/prodServer';

const root = path.resolve(import.meta.dirname, '../..');

/**
 * The secret the soak server signs sessions with; the runner mints cookies
 * with the same one. Random per run: no secret in the repository verifies anything.
 */
export const SOAK_AUTH_SECRET = randomBytes(32).toString('base64url');
/** The soak server's METRICS_TOKEN (metrics are closed without one); random per run. */
const SOAK_METRICS_TOKEN = randomBytes(16).toString('base64url');

/** What the server host reports about one live connection (see serverHost.mjs). */
export interface ConnectionInfo {
  id: string;
  scope: string;
  groups: Record<string, string>;
  paused: boolean;
  pendingFrames: number;
  pendingBytes: number;
  dirtyKeys: number;
  dirtyBytes: number;
  resetPending: boolean;
  /** Frames the outbox references (lanes + dirty keys) and their payload + encoded bytes. */
  heldFrames: number;
  heldBytes: number;
  /** Bytes the sink accepted that the socket has not taken (Node's writable buffer). */
  sinkPendingBytes: number;
  socketBufferedBytes: number;
  /** Bytes the socket handed to the kernel so far. */
  bytesWritten: number;
}

/** Heap figures after a full GC, from the server process. */
export interface MemoryInfo {
  heapUsed: number;
  heapTotal: number;
  rss: number;
  external: number;
  arrayBuffers: number;
  connections: number;
}

/** A steady publisher inside the server process (see serverHost.mjs `flowStart`). */
export interface FlowSpec {
  name: string;
  /** Tenants, round robin. */
  scopes: readonly string[];
  ratePerSec: number;
  tickMs: number;
  /** Topic to publish on. @default the resource */
  topic?: string;
  /** @default 'soak' */
  resource?: string;
  /** Cycle ids over this many keys (default: a new key per signal). */
  keys?: number;
  /** Bytes of padding in the hint. @default 0 */
  padBytes?: number;
}

/** A signal to publish through the app's hub, as `hub.publish` takes it. */
export interface PublishItem {
  scope: string;
  signal: Record<string, unknown>;
  options?: Record<string, unknown>;
  /** Put the publish time (ms, wall clock) into `signal.hint.t`. */
  stamp?: boolean;
}

/** An entry the hub's tap says it delivered: a diagnostic, never an oracle's ground truth. */
export interface DeliveredEntry {
  readonly seq: number;
  readonly epoch: string;
  readonly scope: string;
  readonly topic: string;
  readonly key: string;
  readonly kind: string;
}

export interface SoakServer {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly child: ChildProcess;
  output(): string;
  /** True while the process runs. */
  alive(): boolean;
  call<T>(command: string, args?: unknown, timeoutMs?: number): Promise<T>;
  memory(): Promise<MemoryInfo>;
  /** CPU time the server process used so far, ms (user + system). */
  cpuMs(): Promise<number>;
  connections(filter?: { scope?: string; groups?: Record<string, string> }): Promise<ConnectionInfo[]>;
  publish(items: readonly PublishItem[]): Promise<number[]>;
  /** {@link publish}, also returning the wall-clock ms (performance.timeOrigin based) taken in the server just before the first publish. */
  publishTimed(items: readonly PublishItem[]): Promise<{ seqs: number[]; t0: number }>;
  flowStart(flow: FlowSpec): Promise<void>;
  flowStop(name: string): Promise<{ published: number; lastSeq: number; errors: number }>;
  /** Signals the running flow `name` published so far (0 when there is none). */
  flowPublished(name: string): Promise<number>;
  /**
   * Every publish made through the hub's API since the server became healthy
   * (the harness's and the app's), with the receipt each got back, in publish
   * order: what the oracles check clients against. Also how many publishes rejected.
   */
  published(): Promise<{ entries: PublishedEntry[]; failures: number }>;
  /** Diagnostic: start/take the hub's own account of what it delivered (not used by any oracle). */
  tapStart(): Promise<void>;
  tapTake(stop?: boolean): Promise<DeliveredEntry[]>;
  resetSockets(filter?: { scope?: string }): Promise<number>;
  /** `trpc_live_connections` from GET /api/metrics. */
  gauge(): Promise<number>;
  /** GET /api/health. */
  health(): Promise<{ status: number; body: { status: string; connections: number } }>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `SOAK_CPU_PROF=<dir>`: every soak server writes a CPU profile there when it exits (where a scenario's server time goes). */
function cpuProfileArgs(): string[] {
  const dir = process.env.SOAK_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

/**
 * Node's arguments for the soak server host: the production server's own flags (scripts/serverFlags.mjs, as
 * `npm start` passes them), `--expose-gc` for the heap figures, a CPU profile when `SOAK_CPU_PROF` is set, then `extra`.
 */
export function soakServerNodeArgs(extra: readonly string[] = []): string[] {
  return ['--expose-gc', ...SERVER_NODE_FLAGS, ...cpuProfileArgs(), ...extra, path.join(root, 'soak/lib/serverHost.mjs')];
}

/**
 * Starts the production build (`node scripts/ensure-build.mjs` first) inside
 * the soak server host (`soak/lib/serverHost.mjs`, `--expose-gc`) on a free
 * loopback port with its own data folder, and resolves once /api/health
 * answers 200. `nodeArgs` go to node (e.g. `--cpu-prof` to see where a
 * scenario's server time goes).
 */
export async function startSoakServer(
  options: { env?: Record<string, string>; dataDir?: string; port?: number; nodeArgs?: readonly string[] } = {},
): Promise<SoakServer> {
  ensureBuild({ quiet: true });
  const port = options.port ?? (await freePort());
  const ownDir = !options.dataDir;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'trpc-live-soak-'));
  const child = spawn(
    process.execPath,
    soakServerNodeArgs(options.nodeArgs),
    {
      cwd: root,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        AUTH_SECRET: SOAK_AUTH_SECRET,
        METRICS_TOKEN: SOAK_METRICS_TOKEN,
        LIVE_REDIS_URL: '',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let nextId = 0;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (message: { soak?: boolean; id: number; ok: boolean; result?: unknown; error?: string }) => {
    if (!message?.soak) return;
    const waiter = waiting.get(message.id);
    if (!waiter) return;
    waiting.delete(message.id);
    if (message.ok) waiter.resolve(message.result);
    else waiter.reject(new Error(`server host: ${message.error}`));
  });
  child.once('exit', () => {
    for (const waiter of waiting.values()) waiter.reject(new Error(`server exited:\n${output.slice(-2000)}`));
    waiting.clear();
  });

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Soak server exited early:\n${output}`);
    try {
      const res = await fetch(`${url}/api/health`);
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Soak server did not become healthy within 90 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const call = <T>(command: string, args?: unknown, timeoutMs = 120_000): Promise<T> => {
    if (child.exitCode !== null) return Promise.reject(new Error(`server exited:\n${output.slice(-2000)}`));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`server host: '${command}' got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      child.send({ soak: true, id, command, args });
    });
  };

  // Record from the start: a client's window, not the moment recording began, decides what it should get.
  await call('recordStart');
  const record: PublishedEntry[] = [];
  let ordered: PublishedEntry[] = [];

  return {
    url,
    port,
    dataDir,
    child,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    call,
    memory: () => call<MemoryInfo>('memory'),
    cpuMs: async () => {
      const usage = await call<{ user: number; system: number }>('cpu');
      return (usage.user + usage.system) / 1000;
    },
    connections: (filter) => call<ConnectionInfo[]>('connections', { filter }),
    publish: async (items) => (await call<{ seqs: number[] }>('publish', { items })).seqs,
    publishTimed: (items) => call<{ seqs: number[]; t0: number }>('publish', { items }),
    flowStart: async (flow) => void (await call('flowStart', { flow })),
    flowStop: (name) => call('flowStop', { name }),
    flowPublished: async (name) => (await call<{ published: number }>('flowCount', { name })).published,
    async published() {
      const taken = await call<{ entries: RawPublish[]; failures: number }>('recordTake', { since: record.length });
      if (taken.entries.length || ordered.length !== record.length) {
        for (const raw of taken.entries) record.push(toPublished(raw));
        ordered = inPublishOrder(record);
      }
      return { entries: ordered, failures: taken.failures };
    },
    tapStart: async () => void (await call('tapStart')),
    tapTake: async (stop = false) => (await call<{ entries: DeliveredEntry[] }>('tapTake', { stop })).entries,
    resetSockets: async (filter) => (await call<{ count: number }>('resetSockets', { filter })).count,
    async gauge() {
      const text = await (await fetch(`${url}/api/metrics`, { headers: { authorization: `Bearer ${SOAK_METRICS_TOKEN}` } })).text();
      const match = /^trpc_live_connections(?:\{[^}]*\})?\s+(\S+)$/m.exec(text);
      if (!match) throw new Error('trpc_live_connections is missing from /api/metrics');
      return Number(match[1]);
    },
    async health() {
      const res = await fetch(`${url}/api/health`);
      return { status: res.status, body: (await res.json()) as { status: string; connections: number } };
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
