/**
 * Hub benchmark (`npm run bench -- hub`): two claims of the hub core, each
 * measured side by side in one run, in-process (no network), bounded.
 *
 * 1. Publish cost follows the matching connections, not the total: 10 vs
 *    10,000 connections spread over 1,000 tenants, publishing to one tenant
 *    that has 10 connections in both setups (ratio must be ≤ 1.5). A naive
 *    scan over every connection is timed alongside as the reference.
 * 2. A 10,000-row import reporting progress on every row over 30 simulated
 *    seconds (manual clock) at default settings: frames reaching each client
 *    (≤ 16, the last at 100%), next to the same import on the instant lane.
 */
import { createManualTimers, type ManualTimers } from 'trpc-live/testing';
import {
  createHub,
  matchTopic,
  type CloseReason,
  type Frame,
  type Hub,
  type LiveSink,
} from 'trpc-live/core';
import { fmt, median, table, type BenchOptions, type BenchResult } from '../lib/report';

/** A sink that counts what it is given; `unread` simulates a socket buffer the client has not read. */
class CountingSink implements LiveSink {
  frames = 0;
  writes = 0;
  bytes = 0;
  last: Frame | undefined;
  constructor(public unread = 0) {}
  write(frames: readonly Frame[]): void {
    this.writes++;
    for (const frame of frames) {
      // Control frames are not signals. (A hello carries the stream's starting cursor since 7eeca72, so test its kind, not its id.)
      if (frame.id === null || frame.message.kind === 'hello') continue;
      this.frames++;
      this.bytes += frame.bytes;
      this.last = frame;
    }
  }
  pendingBytes(): number {
    return this.unread;
  }
  onDrain(): void {}
  close(_reason: CloseReason): void {}
}

const TARGET = 't0';
const PER_TENANT = 10;

interface FanoutSetup {
  readonly label: string;
  readonly connections: number;
  readonly hub: Hub;
  readonly timers: ManualTimers;
  readonly sinks: CountingSink[];
}

/** `total` connections: 10 in the target tenant, the rest 10 per tenant over other tenants. */
function fanoutSetup(label: string, total: number): FanoutSetup {
  const timers = createManualTimers();
  // A replay log large enough that eviction work is the same in every setup.
  const hub = createHub({ timers });
  const sinks: CountingSink[] = [];
  for (let i = 0; i < total; i++) {
    const tenant = i < PER_TENANT ? TARGET : `t${1 + Math.floor((i - PER_TENANT) / PER_TENANT)}`;
    const sink = new CountingSink();
    // Realistic subscriptions: everything in scope, or a resource with wildcards.
    hub.connect({ scope: tenant, topics: i % 2 ? ['>'] : ['orders', 'orders.>'], groups: { role: i % 3 ? 'staff' : 'admin' }, sink });
    if (tenant === TARGET) sinks.push(sink);
  }
  return { label, connections: total, hub, timers, sinks };
}

/** ns per publish (delivery and write included) over `n` publishes to the target tenant. */
async function timePublishes(setup: FanoutSetup, n: number, offset: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    await setup.hub.invalidate(TARGET, { resource: 'orders', id: String((offset + i) % 1000) });
    setup.timers.runDeferred(); // end of tick: the instant flush writes to each recipient
  }
  return Number(process.hrtime.bigint() - started) / n;
}

/** The reference a topic index avoids: test every connection on every publish. */
function scanSetup(total: number) {
  const connections = Array.from({ length: total }, (_, i) => ({
    scope: i < PER_TENANT ? TARGET : `t${1 + Math.floor((i - PER_TENANT) / PER_TENANT)}`,
    patterns: i % 2 ? ['>'] : ['orders', 'orders.>'],
    received: 0,
  }));
  return (n: number) => {
    const started = process.hrtime.bigint();
    for (let k = 0; k < n; k++) {
      for (const c of connections) if (c.scope === TARGET && c.patterns.some((p) => matchTopic(p, 'orders'))) c.received++;
    }
    return Number(process.hrtime.bigint() - started) / n;
  };
}

async function publishCost(quick: boolean) {
  const rounds = quick ? 3 : 7;
  const n = quick ? 4_000 : 20_000;
  const small = fanoutSetup('10 connections', 10);
  const large = fanoutSetup('10,000 connections over 1,000 tenants', 10_000);
  const scan = scanSetup(10_000);
  // Warm up both paths (JIT) before measuring.
  await timePublishes(small, 2_000, 0);
  await timePublishes(large, 2_000, 0);
  scan(200);
  const samples = { small: [] as number[], large: [] as number[], scan: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    // Alternate the order so drift (other processes, GC) hits both alike.
    if (r % 2) {
      samples.large.push(await timePublishes(large, n, r * n));
      samples.small.push(await timePublishes(small, n, r * n));
    } else {
      samples.small.push(await timePublishes(small, n, r * n));
      samples.large.push(await timePublishes(large, n, r * n));
    }
    samples.scan.push(scan(quick ? 500 : 2_000));
  }
  const smallNs = median(samples.small);
  const largeNs = median(samples.large);
  const delivered = (s: FanoutSetup) => s.sinks.reduce((sum, sink) => sum + sink.frames, 0);
  const expected = (2_000 + rounds * n) * PER_TENANT;
  const ok = delivered(small) === expected && delivered(large) === expected;
  return {
    rounds,
    publishesPerRound: n,
    nsPerPublish: { small: smallNs, large: largeNs, scanRoutingOnly: median(samples.scan) },
    samples,
    ratio: largeNs / smallNs,
    everyFrameDelivered: ok,
  };
}

interface ImportClient {
  readonly label: string;
  readonly unreadShare: number;
  readonly count: number;
}

async function importProgress(lane: 'coalesced' | 'instant', clients: readonly ImportClient[]) {
  const timers = createManualTimers();
  const hub = createHub({ timers }); // default settings: 2 s base interval, 64 KiB sink high-water mark
  const groups = clients.map((c) => ({
    ...c,
    sinks: Array.from({ length: c.count }, () => {
      const sink = new CountingSink(Math.round(c.unreadShare * 65_536));
      hub.connect({ scope: 'acme', topics: ['import.>'], sink });
      return sink;
    }),
  }));
  const rows = 10_000;
  const durationMs = 30_000;
  const started = process.hrtime.bigint();
  for (let row = 1; row <= rows; row++) {
    timers.advanceTo((row * durationMs) / rows);
    await hub.progress('acme', 'import.csv-42', row, rows, undefined, { lane });
    timers.runDeferred();
  }
  timers.advance(20_000); // let the last windows close
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  return {
    lane,
    wallMs,
    clients: groups.map((g) => {
      const frames = g.sinks.map((s) => s.frames);
      const lastValues = g.sinks.map((s) => (s.last?.message.kind === 'progress' ? s.last.message.current : -1));
      return {
        label: g.label,
        count: g.count,
        framesMax: Math.max(...frames),
        framesMin: Math.min(...frames),
        bytesPerClient: Math.round(g.sinks.reduce((sum, s) => sum + s.bytes, 0) / g.count),
        lastAt100: lastValues.every((v) => v === rows),
      };
    }),
  };
}

export async function run({ quick }: BenchOptions): Promise<BenchResult> {
  const cost = await publishCost(quick);
  console.log(`publish cost: 10 → ${fmt(cost.nsPerPublish.small / 1000, 2)} µs, 10,000 → ${fmt(cost.nsPerPublish.large / 1000, 2)} µs, ratio ${fmt(cost.ratio, 2)}`);

  const clients: ImportClient[] = [
    { label: 'keeps up (sink empty)', unreadShare: 0, count: quick ? 20 : 100 },
    { label: 'lagging (30% of the sink high-water mark unread)', unreadShare: 0.3, count: 5 },
    { label: 'slow (90% unread)', unreadShare: 0.9, count: 5 },
  ];
  const coalesced = await importProgress('coalesced', clients);
  const instant = await importProgress('instant', [{ label: 'keeps up (sink empty)', unreadShare: 0, count: quick ? 5 : 10 }]);
  const fast = coalesced.clients[0]!;
  const importOk = coalesced.clients.every((c) => c.framesMax <= 16 && c.lastAt100);
  console.log(`import: ${fast.framesMax} frames per fast client (≤ 16: ${importOk ? 'yes' : 'NO'}), instant lane: ${instant.clients[0]!.framesMax}`);

  const markdown = [
    '### Publish cost follows the matches, not the total',
    '',
    `Publishing one invalidation to a tenant with ${PER_TENANT} connections (delivery and the write to each recipient's sink included), median of ${cost.rounds} rounds of ${cost.publishesPerRound.toLocaleString('en-US')} publishes, setups alternated:`,
    '',
    table(
      ['setup', 'µs per publish'],
      [
        ['10 connections, all in the target tenant', fmt(cost.nsPerPublish.small / 1000, 2)],
        ['10,000 connections over 1,000 tenants (10 in the target)', fmt(cost.nsPerPublish.large / 1000, 2)],
        ['reference: routing alone by scanning all 10,000 (no delivery)', fmt(cost.nsPerPublish.scanRoutingOnly / 1000, 2)],
      ],
    ),
    '',
    `**Ratio 10,000 / 10: ${fmt(cost.ratio, 2)}** (target ≤ 1.5: ${cost.ratio <= 1.5 ? 'met' : 'NOT met'}). Every frame reached every recipient: ${cost.everyFrameDelivered ? 'yes' : 'NO'}.`,
    '',
    '### A 10,000-row import reporting progress on every row',
    '',
    'One progress signal per row over 30 simulated seconds (manual clock), default settings (2 s base interval, coalescing window 2 s).',
    '',
    table(
      ['lane', 'client', 'clients', 'frames per client (max)', 'bytes per client', 'last frame at 100%'],
      [
        ...coalesced.clients.map((c) => ['coalesced', c.label, c.count, c.framesMax, c.bytesPerClient.toLocaleString('en-US'), c.lastAt100 ? 'yes' : 'NO']),
        ...instant.clients.map((c) => ['instant (no coalescing)', c.label, c.count, c.framesMax, c.bytesPerClient.toLocaleString('en-US'), c.lastAt100 ? 'yes' : 'NO']),
      ],
    ),
    '',
    `**${fast.framesMax} frames per client that keeps up (target ≤ 16, the last at 100%: ${importOk ? 'met' : 'NOT met'})**, ${fmt(instant.clients[0]!.framesMax / fast.framesMax, 0)}× fewer than without coalescing. Hub time for the simulated import: ${fmt(coalesced.wallMs, 0)} ms (coalesced, ${coalesced.clients.reduce((s, c) => s + c.count, 0)} clients) vs ${fmt(instant.wallMs, 0)} ms (instant, ${instant.clients[0]!.count} clients).`,
  ].join('\n');

  return { name: 'hub', title: 'Hub core: fan-out cost and progress coalescing', markdown, data: { publishCost: cost, import: { coalesced, instant } } };
}
