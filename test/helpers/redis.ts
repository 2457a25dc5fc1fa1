import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { freePort } from './prodServer';
import { findBinary } from './services';

/** Path of `redis-server`, or `null` (use with `describeWithService`). */
export const redisServerBinary = findBinary('redis-server');

/** A private `redis-server` on a loopback port, for one test file. */
export interface TestRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Everything the server printed. */
  output(): string;
  /** SIGKILLs the server (a crash: no data is kept, as persistence is off). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** SIGSTOPs the server: connections stay open and commands queue unanswered (a hung Redis). */
  freeze(): void;
  /** SIGCONTs a frozen server: it answers what queued meanwhile, in order. */
  thaw(): void;
  /** Stops it for good. */
  stop(): Promise<void>;
}

/** Resolves once something accepts TCP connections on the port. */
async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited early:\n${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port} within 10 s:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Starts our own `redis-server` (never a shared one) on a free loopback port
 * with persistence off (`--save '' --appendonly no`), so a kill loses its data
 * as a crashed cache would.
 */
export async function startRedis(): Promise<TestRedis> {
  const binary = redisServerBinary;
  if (!binary) throw new Error('redis-server is not installed');
  const port = await freePort();
  let log = '';
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await waitForPort(port, child, () => log);
  };
  const halt = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // A frozen server would not act on SIGTERM until continued.
    child.kill('SIGCONT');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    output: () => log,
    kill: () => halt('SIGKILL'),
    restart: launch,
    freeze: () => void child.kill('SIGSTOP'),
    thaw: () => void child.kill('SIGCONT'),
    stop: () => halt('SIGTERM'),
  };
}

/** A TCP proxy in front of a port, to cut or stall one client's link (a network partition). */
export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  /** Connections refused while cut (each is one reconnect attempt of a client). */
  readonly refused: number;
  /** Drops every connection and refuses new ones until {@link heal}. */
  cut(): void;
  /** Stops forwarding bytes (a hung peer) without closing anything, until {@link heal}. */
  stall(): void;
  /** Back to normal: new connections are forwarded again, stalled ones resume. */
  heal(): void;
  close(): Promise<void>;
}

/** Starts a loopback TCP proxy to `127.0.0.1:<targetPort>`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let state: 'open' | 'cut' | 'stalled' = 'open';
  let refused = 0;
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const server = createServer((client) => {
    if (state === 'cut') {
      refused++;
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
    if (state === 'stalled') {
      client.pause();
      upstream.pause();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const cut = () => {
    state = 'cut';
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get refused() {
      return refused;
    },
    cut,
    stall() {
      state = 'stalled';
      for (const { client, upstream } of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    heal() {
      const wasStalled = state === 'stalled';
      state = 'open';
      if (!wasStalled) return;
      for (const { client, upstream } of pairs) {
        client.pipe(upstream);
        upstream.pipe(client);
      }
    },
    close() {
      cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
