import { fork } from 'node:child_process';
import path from 'node:path';
import { Child } from '../../bench/lib/child';
import { freePort } from '../../test/helpers/prodServer';
import type { PlainSseServer } from './protocol';

const root = path.resolve(import.meta.dirname, '../..');

/** The transport bench's batched bare `node:http` server, run unchanged as a baseline (see {@link startBareBatched}). */
export interface BareServer {
  /** What a client stream opens (`StreamSpec.server`). */
  readonly sse: PlainSseServer;
  readonly pid: number | undefined;
  /** Publishes one event (`round` names it: its frame holds `"id":"<round>-0"`); the server's wall clock just before. */
  publish(round: string): Promise<number>;
  /** Open responses the server holds. */
  connections(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts `bench/transport/servers/bareBatched.mjs` (owned by the transport
 * bench, used read-only: the limit our transport is held to) on a free
 * loopback port with `--expose-gc`, and resolves once it answers `/health`.
 */
export async function startBareBatched(): Promise<BareServer> {
  const port = await freePort();
  const child = new Child(
    fork(path.join(root, 'bench/transport/servers/bareBatched.mjs'), [], {
      cwd: root,
      // SOAK_CPU_PROF=<dir>: a CPU profile of this server too, to compare its fan-out with the app's.
      execArgv: ['--expose-gc', ...(process.env.SOAK_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SOAK_CPU_PROF}`] : [])],
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    }),
    'bare batched server',
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.proc.exitCode !== null) throw new Error('the bare batched server exited early');
    try {
      const res = await fetch(`${url}/health`);
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await child.kill();
      throw new Error('the bare batched server did not answer /health within 30 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    sse: { url, path: '/sse', readyEvent: 'ready' },
    pid: child.proc.pid,
    publish: async (round) => (await child.ask<{ t0: number }>({ type: 'publish', round, count: 1 }, 'published', 30_000)).t0,
    connections: async () => (await child.ask<{ connections: number }>({ type: 'stats' }, 'stats', 30_000)).connections,
    stop: () => child.kill(),
  };
}
