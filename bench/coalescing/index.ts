/**
 * Coalescing through the real app (`npm run bench -- coalescing`): a
 * 10,000-row CSV import started with `imports.start` on the production build
 * while 100 users of the tenant hold the live stream (real tRPC client, in a
 * child process). Counted per client: progress frames, bytes received during
 * the import, whether the last progress frame says 100% and the completion
 * arrived. Side by side: the app's worker (progress after each chunk of 250
 * rows) and a worker reporting after every row, as the article's does
 * (IMPORT_CHUNK_ROWS=1). The server's count of progress signals published
 * comes from its /api/metrics.
 */
import path from 'node:path';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';
import { sampleOrderCsv } from '../../src/app/(app)/imports/sampleCsv';
import type { AppRouter } from '../../src/server/routers/_app';
import { BENCH_PASSWORD, seedBenchData } from '../article/seed';
import { metricsAuthorization, startAppServer, tempDataDir } from '../lib/appServer';
import { signIn } from '../lib/browserFetch';
import { Child } from '../lib/child';
import { fmt, median, table, type BenchOptions, type BenchResult } from '../lib/report';

interface Setting {
  readonly name: string;
  readonly env: Record<string, string>;
}

const SETTINGS: readonly Setting[] = [
  { name: 'app worker: progress after each chunk of 250 rows', env: {} },
  // IMPORT_PAUSE_MS must be a positive integer: 1 ms between rows.
  { name: 'progress after every row (the article\u2019s worker)', env: { IMPORT_CHUNK_ROWS: '1', IMPORT_PAUSE_MS: '1' } },
];

interface ImportRun {
  readonly setting: string;
  readonly run: number;
  readonly published: number;
  readonly clients: number;
  readonly framesPerClient: number[];
  readonly bytesPerClient: number[];
  /** Clients whose last progress frame was current === total (rows). */
  readonly finalAt100: number;
  /** Per client: ms from the completion frame to the 100% progress frame (negative: progress first). */
  readonly finalAfterCompleteMs: number[];
  readonly completed: number;
  readonly seconds: number;
  readonly error?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function publishedCoalesced(url: string): Promise<number> {
  const text = await (await fetch(`${url}/api/metrics`, { headers: { authorization: metricsAuthorization } })).text();
  const match = /^trpc_live_signals_published_total\{lane="coalesced"\} (\d+)/m.exec(text);
  if (!match) throw new Error('no coalesced publish counter in /api/metrics');
  return Number(match[1]);
}

async function runOnce(setting: Setting, run: number, clientsCount: number, rows: number): Promise<ImportRun> {
  const dataDir = tempDataDir();
  const [tenant] = seedBenchData(dataDir, { tenants: 1, usersPerTenant: clientsCount, productsPerTenant: 8, ordersPerTenant: 10 });
  const server = await startAppServer({ dataDir, ownDataDir: true, env: setting.env });
  const child = Child.forkTs(path.join(import.meta.dirname, 'clients.ts'), 'coalescing clients');
  const empty = { setting: setting.name, run, published: NaN, clients: clientsCount, framesPerClient: [], bytesPerClient: [], finalAt100: 0, finalAfterCompleteMs: [], completed: 0, seconds: NaN };
  try {
    await child.ask({ type: 'start', baseUrl: server.url, password: BENCH_PASSWORD, emails: tenant!.users }, 'started', 120_000);
    const deadline = Date.now() + 60_000;
    while ((await child.ask<{ hello: number }>({ type: 'state' }, 'state', 10_000)).hello < clientsCount) {
      if (Date.now() > deadline) throw new Error('streams not connected within 60 s');
      await sleep(100);
    }
    const cookie = await signIn(server.url, tenant!.actor, BENCH_PASSWORD);
    const actor = createTRPCClient<AppRouter>({
      links: [httpBatchLink({ url: `${server.url}/api/trpc`, transformer: superjson, headers: { cookie, origin: server.url } })],
    });
    const csv = sampleOrderCsv(rows, tenant!.skus);
    const publishedBefore = await publishedCoalesced(server.url);
    const bytesBefore = (await child.ask<{ bytesIn: number[] }>({ type: 'state' }, 'state', 10_000)).bytesIn;
    const startedAt = Date.now();
    const record = await actor.imports.start.mutate({ fileName: `bench-${rows}.csv`, csv });
    const key = `imports.${record.id}`;
    const until = Date.now() + 180_000;
    let state: { completed: number; final: number; bytesIn: number[] };
    let seconds = NaN;
    // Until every client has the completion (instant lane) and the 100% frame (coalesced lane, which
    // the instant lane overtakes, so it may come up to one coalescing window later); at most 5 s more.
    let finalDeadline = Infinity;
    for (;;) {
      state = await child.ask({ type: 'state', key }, 'state', 10_000);
      if (state.completed === clientsCount && Number.isNaN(seconds)) {
        seconds = (Date.now() - startedAt) / 1000;
        finalDeadline = Date.now() + 5000;
      }
      if (state.completed === clientsCount && (state.final === clientsCount || Date.now() > finalDeadline)) break;
      if (Date.now() > until) throw new Error(`only ${state.completed} of ${clientsCount} clients saw the import complete within 180 s`);
      await sleep(50);
    }
    const published = (await publishedCoalesced(server.url)) - publishedBefore;
    const { frames, completedAt } = await child.ask<{ frames: Array<Array<[number, number, number]>>; completedAt: number[] }>(
      { type: 'frames', key },
      'frames',
      30_000,
    );
    return {
      ...empty,
      published,
      framesPerClient: frames.map((f) => f.length),
      bytesPerClient: state.bytesIn.map((b, i) => b - bytesBefore[i]!),
      finalAt100: frames.filter((f) => f.length > 0 && f.at(-1)![0] === f.at(-1)![1] && f.at(-1)![1] === rows).length,
      finalAfterCompleteMs: frames.map((f, i) => (f.length ? f.at(-1)![2] - completedAt[i]! : NaN)),
      completed: state.completed,
      seconds,
    };
  } catch (error) {
    return { ...empty, error: error instanceof Error ? error.message : String(error) };
  } finally {
    await child.ask({ type: 'stop' }, 'stopped', 10_000).catch(() => undefined);
    await child.kill();
    await server.stop();
  }
}

const range = (values: readonly number[], digits = 0) => {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return '—';
  const [lo, hi, mid] = [Math.min(...finite), Math.max(...finite), median(finite)];
  return lo === hi ? fmt(mid, digits) : `${fmt(mid, digits)} (${fmt(lo, digits)}–${fmt(hi, digits)})`;
};

/** Runs the coalescing benchmark. */
export async function run({ quick }: BenchOptions): Promise<BenchResult> {
  const clientsCount = quick ? 10 : 100;
  const rows = 10_000;
  const runs = quick ? 1 : 3;
  const results: ImportRun[] = [];
  for (let r = 1; r <= runs; r++) {
    for (const setting of SETTINGS) {
      console.log(`[coalescing] run ${r}/${runs}: ${setting.name}`);
      const result = await runOnce(setting, r, clientsCount, rows);
      results.push(result);
      console.log(
        result.error
          ? `  failed: ${result.error}`
          : `  ${result.published} progress signals published; frames per client ${range(result.framesPerClient)}; ${result.finalAt100}/${result.clients} last frame at 100% ` +
              `(${fmt(median(result.finalAfterCompleteMs), 0)} ms after the completion); ${result.completed} completed; ${fmt(result.seconds, 1)} s`,
      );
    }
  }
  const rowsOut = SETTINGS.map((setting) => {
    const mine = results.filter((r) => r.setting === setting.name && !r.error);
    const perRun = (pick: (r: ImportRun) => number) => mine.map(pick);
    return [
      setting.name,
      range(perRun((r) => r.published)),
      range(perRun((r) => median(r.framesPerClient))),
      range(perRun((r) => Math.max(...r.framesPerClient))),
      range(perRun((r) => median(r.bytesPerClient) / 1024), 1),
      mine.length ? `${mine.map((r) => `${r.finalAt100}/${r.clients}`).join(', ')}` : '—',
      mine.length ? `${mine.map((r) => `${r.completed}/${r.clients}`).join(', ')}` : '—',
      range(perRun((r) => median(r.finalAfterCompleteMs))),
      range(perRun((r) => r.published / median(r.framesPerClient)), 0),
      range(perRun((r) => r.seconds), 1),
    ];
  });
  const failures = results.filter((r) => r.error).map((r) => `${r.setting} run ${r.run}: ${r.error}`);
  const markdown = [
    `A ${rows.toLocaleString('en-US')}-row CSV import (\`imports.start\`, the import page's sample file) on the production build, while ${clientsCount} users of the tenant hold the live stream (real tRPC client, one child process). ` +
      `${runs} run(s) per setting, each on a fresh server; median (min–max) of the runs. The app coalesces progress per key on its coalesced lane (500 ms window) and sends completion on the instant lane.`,
    '',
    table(
      [
        'worker',
        'progress signals published (server)',
        'progress frames per client (median)',
        'most frames to one client',
        'KiB received per client during the import',
        'clients whose last progress frame was 100% (per run)',
        'clients that received the completion (per run)',
        '100% frame after the completion, ms (median)',
        'published / frames per client',
        'import time, s',
      ],
      rowsOut,
    ),
    '',
    'The completion travels on the instant lane, which overtakes the coalesced lane: the 100% progress frame may follow it by up to one coalescing window (the import page handles both orders). ' +
      'Bytes: everything each client\u2019s socket read from the start of the import until both the completion and the 100% frame had arrived (progress frames, completion, the invalidations that follow, pings).' +
      (failures.length ? ` Failed runs: ${failures.join('; ')}.` : ''),
  ].join('\n');
  return {
    name: 'coalescing',
    title: 'Coalescing: a 10,000-row import through the real app',
    markdown,
    data: { clients: clientsCount, rows, runs, results },
  };
}
