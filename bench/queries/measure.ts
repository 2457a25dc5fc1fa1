/**
 * One independent run of the queries benchmark, in its own process: a fresh
 * SQLite file (WAL, as the app opens it) in a temp folder, {@link seedTenant}
 * at the asked size, then every case through `createCaller` (real context and
 * middleware, the app's code path) as the tenant's admin. Replies with each
 * case's wall times in ms.
 */
import { performance } from 'node:perf_hooks';
import { serveParent } from '../lib/child';
import { setupApp } from '../../test/helpers/app';
import { QUERY_CASES, seedTenant } from './cases';

/** What the parent asks for. */
export interface MeasureRequest {
  readonly type: 'measure';
  readonly orders: number;
  /** Calls per case at most (after one warm-up call). */
  readonly samples: number;
  /** Time per case at most, in ms: a slow case stops early with fewer samples. */
  readonly budgetMs: number;
}

/** The reply. */
export interface MeasureReply {
  readonly type: 'measured';
  readonly seedMs: number;
  readonly journalMode: string;
  /** Case name → wall time of each call, ms. */
  readonly samples: Record<string, number[]>;
  /**
   * Case name → CPU time of the process during each call, ms (µs resolution): wall time minus
   * the time the loaded machine gave other processes, plus other threads' work (GC helpers).
   */
  readonly cpu: Record<string, number[]>;
}

serveParent(async (message: MeasureRequest): Promise<MeasureReply | void> => {
  if (message.type !== 'measure') return;
  const app = await setupApp();
  try {
    const seeded = performance.now();
    const ids = seedTenant(app.db, message.orders);
    const seedMs = performance.now() - seeded;
    const alice = await app.callerAs('alice@acme.test');
    const samples: Record<string, number[]> = {};
    const cpu: Record<string, number[]> = {};
    for (const c of QUERY_CASES) {
      await c.call(alice, ids); // warm the statement cache and the pages
      const times: number[] = [];
      const cpuTimes: number[] = [];
      const until = performance.now() + message.budgetMs;
      while (times.length < message.samples && performance.now() < until) {
        const cpuStart = process.cpuUsage();
        const start = performance.now();
        await c.call(alice, ids);
        times.push(performance.now() - start);
        const used = process.cpuUsage(cpuStart);
        cpuTimes.push((used.user + used.system) / 1000);
      }
      samples[c.name] = times;
      cpu[c.name] = cpuTimes;
    }
    return { type: 'measured', seedMs, journalMode: String(app.db.pragma('journal_mode', { simple: true })), samples, cpu };
  } finally {
    await app.close();
  }
});
