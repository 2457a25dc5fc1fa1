/**
 * Backend benchmark (`npm run bench -- backend`): what a shared Redis costs
 * compared with the in-memory backend, side by side in one run, in-process
 * hubs, loopback Redis (our own `redis-server` on a free port, persistence
 * off), bounded in count and time.
 *
 * 1. Publish → delivered latency, one signal at a time: memory; Redis with
 *    the subscriber on the publishing hub; Redis with the subscriber on a
 *    second hub (cross-instance).
 * 2. A burst of signals published without waiting: time until the last one
 *    reached a connection on the second hub (signals per second).
 * 3. Replay of a cursor 1,000 signals behind (100 distinct keys): `since()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { createHub, createMemoryBackend, type CloseReason, type Frame, type Hub, type LiveBackend, type LiveSink } from 'trpc-live/core';
import { createRedisBackend, type RedisBackend } from 'trpc-live/redis';
import { fmt, formatTail, quantile, table, tail, type BenchOptions, type BenchResult, type Tail } from '../lib/report';
import { freePort } from '../../test/helpers/prodServer';

/** Latencies here are sub-millisecond: two decimals. */
const ms2 = (v: number) => `${fmt(v, 2)} ms`;

/** Resolves waiters when a given count of signal frames has been written. */
class WaitingSink implements LiveSink {
  frames = 0;
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  write(frames: readonly Frame[]): void {
    for (const frame of frames) if (frame.id !== null) this.frames++;
    this.waiters = this.waiters.filter((w) => {
      if (this.frames < w.count) return true;
      w.resolve();
      return false;
    });
  }
  until(count: number, timeoutMs = 30_000): Promise<void> {
    if (this.frames >= count) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.frames}/${count} frames within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
  pendingBytes(): number {
    return 0;
  }
  onDrain(): void {}
  close(_reason: CloseReason): void {}
}


async function startRedis(binary: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface Setup {
  readonly label: string;
  readonly publisher: Hub;
  /** Where the measured connection lives. */
  readonly receiver: Hub;
  close(): Promise<void>;
}

/** Publish one signal at a time; time until the receiving connection has it. */
async function latency(setup: Setup, count: number): Promise<number[]> {
  const sink = new WaitingSink();
  const connection = setup.receiver.connect({ scope: 'acme', sink });
  const samples: number[] = [];
  for (let i = 1; i <= count; i++) {
    const started = performance.now();
    await setup.publisher.invalidate('acme', { resource: 'orders', id: String(i % 100) });
    await sink.until(i);
    samples.push(performance.now() - started);
  }
  connection.dispose();
  return samples;
}

/** Publish `count` signals without waiting; signals per second until the last one arrived. */
async function burst(setup: Setup, count: number): Promise<number> {
  const sink = new WaitingSink();
  const connection = setup.receiver.connect({ scope: 'acme', sink, topics: ['burst'] });
  const started = performance.now();
  const publishes: Promise<unknown>[] = [];
  // Distinct keys: same-tick deduplication must not make a backend look faster.
  for (let i = 0; i < count; i++) publishes.push(setup.publisher.invalidate('acme', { resource: 'burst', id: String(i) }));
  await Promise.all(publishes);
  await sink.until(count, 60_000);
  const seconds = (performance.now() - started) / 1000;
  connection.dispose();
  return count / seconds;
}

/** Time of `since()` for a cursor `behind` signals back over 100 distinct keys. */
async function replay(backend: LiveBackend, hub: Hub, behind: number, repeats: number): Promise<number[]> {
  const cursor = await hub.invalidate('replay', { resource: 'orders', id: 'start' });
  for (let i = 0; i < behind; i++) await hub.invalidate('replay', { resource: 'orders', id: String(i % 100) });
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    const result = await backend.since('replay', cursor.epoch, cursor.seq);
    samples.push(performance.now() - started);
    if (!result.ok || result.entries.length !== 100) throw new Error(`replay returned ${JSON.stringify(result).slice(0, 200)}`);
  }
  return samples;
}

export async function run({ quick }: BenchOptions): Promise<BenchResult> {
  const binary = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
  if (!binary) {
    const markdown = '_Skipped: `redis-server` is not installed on this machine._';
    return { name: 'backend', title: 'Backends: memory vs Redis', markdown, data: { skipped: true } };
  }
  const latencyCount = quick ? 300 : 2000;
  const burstCount = quick ? 2000 : 20_000;
  const redis = await startRedis(binary);
  let prefixes = 0;
  const redisBackend = () =>
    createRedisBackend({ url: redis.url, prefix: `bench${prefixes}`, logger: null }) as RedisBackend;
  const setups: Array<() => Promise<Setup>> = [
    async () => {
      const hub = createHub({ backend: createMemoryBackend() });
      return { label: 'memory', publisher: hub, receiver: hub, close: () => hub.close() };
    },
    async () => {
      prefixes++;
      const backend = redisBackend();
      await backend.ready();
      const hub = createHub({ backend });
      return { label: 'Redis, same instance', publisher: hub, receiver: hub, close: () => hub.close() };
    },
    async () => {
      prefixes++;
      const [a, b] = [redisBackend(), redisBackend()];
      await Promise.all([a.ready(), b.ready()]);
      const [hubA, hubB] = [createHub({ backend: a }), createHub({ backend: b })];
      return {
        label: 'Redis, other instance',
        publisher: hubA,
        receiver: hubB,
        close: async () => {
          await Promise.all([hubA.close(), hubB.close()]);
        },
      };
    },
  ];

  const rows: Array<{ label: string; p50: number; tail: Tail; perSecond: number }> = [];
  try {
    for (const make of setups) {
      const setup = await make();
      try {
        await latency(setup, 50); // warm-up: scripts loaded, JIT
        const samples = await latency(setup, latencyCount);
        const perSecond = await burst(setup, burstCount);
        rows.push({ label: setup.label, p50: quantile(samples, 0.5), tail: tail(samples), perSecond });
        console.log(`[bench backend] ${setup.label}: p50 ${fmt(rows.at(-1)!.p50, 2)} ms, ${formatTail(rows.at(-1)!.tail, ms2)}, burst ${fmt(perSecond, 0)}/s`);
      } finally {
        await setup.close();
      }
    }

    const memory = createMemoryBackend();
    const memoryHub = createHub({ backend: memory });
    prefixes++;
    const shared = redisBackend();
    await shared.ready();
    const sharedHub = createHub({ backend: shared });
    const repeats = quick ? 20 : 100;
    const replayMemory = await replay(memory, memoryHub, 1000, repeats);
    const replayRedis = await replay(shared, sharedHub, 1000, repeats);
    await Promise.all([memoryHub.close(), sharedHub.close()]);

    const base = rows[0]!;
    const markdown = [
      `Hubs in one process, Redis ${'on loopback'} (our own \`redis-server\`, persistence off). Latency: ${latencyCount} signals one at a time, publish call → frame written to the connection. Burst: ${burstCount.toLocaleString('en-US')} signals published without waiting, until the last one reached the connection.`,
      '',
      table(
        ['backend, where the connection is', 'p50 (ms)', 'tail (p99 from ≥ 300 samples, else max)', 'p50 vs memory', 'burst (signals/s)', 'burst vs memory'],
        rows.map((r) => [r.label, fmt(r.p50, 2), formatTail(r.tail, ms2), `${fmt(r.p50 / base.p50, 1)}×`, fmt(r.perSecond, 0), `${fmt(r.perSecond / base.perSecond, 2)}×`]),
      ),
      '',
      `Replay of a cursor 1,000 signals behind (100 distinct keys, compacted to 100 entries), ${repeats} calls: memory p50 ${fmt(quantile(replayMemory, 0.5), 3)} ms, Redis p50 ${fmt(quantile(replayRedis, 0.5), 3)} ms (one Lua script: checks and \`XRANGE\`, compacted in Node).`,
    ].join('\n');
    return {
      name: 'backend',
      title: 'Backends: memory vs Redis',
      markdown,
      data: {
        latencyCount,
        burstCount,
        rows,
        replay: {
          memoryP50: quantile(replayMemory, 0.5),
          redisP50: quantile(replayRedis, 0.5),
          memoryTail: tail(replayMemory),
          redisTail: tail(replayRedis),
        },
      },
    };
  } finally {
    await redis.stop();
  }
}
