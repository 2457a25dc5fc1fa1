import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
// @ts-expect-error -- plain ESM script without types
import { ensureBuild } from '../../scripts/ensure-build.mjs';
import { SERVER_V8_FLAGS } from '../../scripts/serverFlags.mjs';
import { freePort } from '../../test/helpers/prodServer';
import { pinnedCommand } from './cpuPinning';

const root = path.resolve(import.meta.dirname, '../..');

/** `Authorization` of a bench scrape of `/api/metrics` (closed without a METRICS_TOKEN); random per run. */
const METRICS_TOKEN = randomBytes(16).toString('base64url');
export const metricsAuthorization = `Bearer ${METRICS_TOKEN}`;

/** A running production server (`node dist/main.js`). */
export interface AppServer {
  readonly url: string;
  readonly port: number;
  /** Pid of the server process itself (not a shell or npm): what CPU accounting reads. */
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything it printed. */
  output(): string;
  /** SIGTERM, then SIGKILL after 5 s; removes the data folder when it made it. */
  stop(): Promise<void>;
}

/** Builds a new data folder for one run (removed by {@link AppServer.stop} when passed in `ownDataDir`). */
export function tempDataDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'trpc-live-bench-'));
}

/**
 * Builds the production app if needed (through the shared build lock), then
 * starts `node dist/main.js` on a free loopback port; resolves once
 * `/api/health` answers.
 */
export async function startAppServer(options: {
  dataDir: string;
  env?: Record<string, string>;
  ownDataDir?: boolean;
  /** Extra node flags; `BENCH_CPU_PROF=<dir>` adds a CPU profile of the server (where the time goes). */
  nodeArgs?: string[];
  /** Runs the server on these CPUs only (a taskset cpu list, bench/lib/cpuPinning.ts). @default any */
  cpus?: string;
}): Promise<AppServer> {
  ensureBuild();
  const port = await freePort();
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const [command, args] = pinnedCommand(options.cpus, process.execPath, [...profile, ...SERVER_V8_FLAGS, ...(options.nodeArgs ?? []), 'dist/main.js']);
  const child = spawn(command, args, {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: options.dataDir,
      METRICS_TOKEN,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
    try {
      const res = await fetch(`${url}/api/health`);
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server not healthy within 90 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    port,
    pid: child.pid!,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      if (options.ownDataDir) rmSync(options.dataDir, { recursive: true, force: true });
    },
  };
}
