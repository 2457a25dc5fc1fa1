import type { Hub } from 'trpc-live/core';
import { getDb, type Db } from '../db/database';
import { getHub } from '../appHub';
import { envValue } from '../env';
import { createImport, failInterruptedImports, getImport, insertImportedOrders, updateImport, type ImportedOrder, type ImportRecord } from '../data/imports';
import { listProducts } from '../data/products';
import { notify } from '../notify';
import { live } from '../trpc/init';
import { orderRows, readOrderCsv, validateOrderRow, type ImportProduct, type OrderCsv } from './orderCsv';

/** Options of {@link createImportWorker}. */
export interface ImportWorkerOptions {
  db: () => Db;
  hub: () => Hub;
  /** Rows validated and inserted per transaction. @default 250 */
  chunkRows?: number;
  /**
   * Pause between chunks, in ms. Background work yields the event loop after
   * every chunk; the pause also caps its share of a core so requests and the
   * live stream keep their latency during an import. @default 20
   */
  pauseMs?: number;
  /** @default (ms) => new Promise((r) => setTimeout(r, ms)) */
  sleep?: (ms: number) => Promise<void>;
  /** Imports one tenant may have queued or running. @default {@link MAX_PENDING_IMPORTS_PER_TENANT} */
  maxPendingPerTenant?: number;
}

/**
 * Imports one tenant may have queued or running; one more is refused with
 * {@link ImportQueueFullError}. Each holds its file in memory (up to 5 MB)
 * until it is done, and the queue was unbounded: 20 files of 4.65 MB queued
 * by one user added 84 MB of RSS. The import page starts one file at a time,
 * so 3 leave room for a couple of uploads while one runs, and bound what a
 * tenant holds to ~15 MB (ASCII).
 */
export const MAX_PENDING_IMPORTS_PER_TENANT = 3;

/** Thrown by {@link ImportWorker.start} when the tenant has its most imports queued or running. */
export class ImportQueueFullError extends Error {
  constructor(readonly pending: number) {
    super(`Your tenant has ${pending} imports queued or running, the most it may have; start another when one has finished`);
  }
}

/** What starting an import needs. */
export interface StartImportInput {
  tenantId: string;
  userId: string;
  fileName: string;
  csv: string;
}

/**
 * Runs CSV order imports in the background, publishing progress and
 * completion. One chunk runs at a time; tenants take turns chunk by chunk
 * (each its oldest import), so one tenant's backlog delays another's import
 * by one chunk per turn, not by its whole queue: behind one tenant's 20 large
 * files, another tenant's 1-row import waited over 30 s.
 */
export interface ImportWorker {
  /**
   * Checks the file's header and size, records the import as queued and
   * schedules it. Rows are validated while processing (bad rows are counted
   * and skipped, not fatal).
   * @throws DomainError BAD_REQUEST for a file that is not an order CSV.
   * @throws ImportQueueFullError when the tenant has its most imports pending.
   */
  start(input: StartImportInput): ImportRecord;
  /** Imports queued or running. */
  readonly pending: number;
  /** Resolves when nothing is queued or running (tests, shutdown). */
  idle(): Promise<void>;
}

/**
 * What the worker publishes: progress and completion of the `imports` job
 * (keys `imports.<id>`, declared in trpc/resources.ts with their extras),
 * and invalidations of the imported orders and of the import itself.
 */
const importPublisher = live.publisher('import-worker', { invalidates: ['orders', 'imports'], publishes: ['imports'] });

interface Job {
  readonly record: ImportRecord;
  readonly tenantId: string;
  readonly csv: OrderCsv;
  /** Its chunks, from its first turn. */
  steps?: AsyncGenerator<void, void, void>;
}

const MAX_ERRORS_REPORTED = 5;

/** Creates an import worker. See {@link ImportWorkerOptions} for defaults. */
export function createImportWorker(options: ImportWorkerOptions): ImportWorker {
  const chunkRows = options.chunkRows ?? 250;
  const pauseMs = options.pauseMs ?? 20;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const maxPendingPerTenant = options.maxPendingPerTenant ?? MAX_PENDING_IMPORTS_PER_TENANT;
  /** Pending imports per tenant, oldest (the one running) first; a tenant is here while it has one. */
  const queues = new Map<string, Job[]>();
  /** Tenants in the order of their next turn (a tenant whose chunk runs is in neither place). */
  const turns: string[] = [];
  let pending = 0;
  let running: Promise<void> | null = null;

  const run = async () => {
    for (let tenantId = turns.shift(); tenantId !== undefined; tenantId = turns.shift()) {
      const queue = queues.get(tenantId)!;
      const job = queue[0]!;
      job.steps ??= process(job);
      const { done } = await job.steps.next();
      if (done) {
        queue.shift();
        pending--;
      }
      if (queue.length) turns.push(tenantId);
      else queues.delete(tenantId);
      // Between chunks, not after an import's last one.
      if (!done) await sleep(pauseMs);
    }
    running = null;
  };

  /** One import, a chunk per step (it yields after each chunk but the last). */
  async function* process(job: Job): AsyncGenerator<void, void, void> {
    const db = options.db();
    const hub = options.hub();
    const publisher = importPublisher.withHub(hub);
    const { record, tenantId } = job;
    const total = job.csv.rowCount;
    const rows = orderRows(job.csv);
    let processed = 0;
    let imported = 0;
    let failed = 0;
    const errors: string[] = [];
    try {
      updateImport(db, record.id, { status: 'running' });
      await publisher.invalidate(tenantId, 'imports', record.id, { action: 'updated' });
      const productsBySku = new Map<string, ImportProduct>(
        listProducts(db, tenantId).map((p) => [p.sku.toUpperCase(), { id: p.id, priceCents: p.priceCents }]),
      );
      while (processed < total) {
        // Read here, a chunk at a time: reading a large file at once held the event loop for hundreds of ms.
        const chunk = rows.next(chunkRows);
        if (!chunk.length) break;
        const valid: ImportedOrder[] = [];
        const now = Date.now();
        for (const row of chunk) {
          const result = validateOrderRow(row.fields, productsBySku, now);
          if (typeof result === 'string') {
            failed++;
            if (errors.length < MAX_ERRORS_REPORTED) errors.push(`line ${row.line}: ${result}`);
          } else {
            valid.push(result);
          }
        }
        if (valid.length) imported += insertImportedOrders(db, tenantId, valid, now).length;
        processed += chunk.length;
        updateImport(db, record.id, { processed, imported, failed });
        // Coalesced lane: a browser sees the latest value once per flush window, never all of them.
        await publisher.progress(tenantId, 'imports', record.id, processed, total, { importId: record.id, imported, failed });
        if (processed < total) yield;
      }
      const summary = errors.length ? `${failed} rows skipped (${errors.join('; ')}${failed > errors.length ? '; …' : ''})` : null;
      updateImport(db, record.id, { status: 'done', error: summary, finishedAt: Date.now() });
      await publisher.complete(tenantId, 'imports', record.id, true, { importId: record.id, processed, imported, failed, total });
      await publisher.invalidate(tenantId, 'orders', { action: 'created' });
      await publisher.invalidate(tenantId, 'imports', record.id, { action: 'updated' });
      await notify(db, hub, tenantId, {
        kind: 'import.done',
        title: `Imported ${imported.toLocaleString('en-US')} orders`,
        body: `${record.fileName}${failed ? ` · ${failed.toLocaleString('en-US')} rows skipped` : ''}`,
        link: '/imports',
      });
    } catch (error) {
      console.error(`[imports] ${record.id} failed:`, error);
      const message = 'The import stopped because of a server error; rows before it were imported';
      try {
        updateImport(db, record.id, { status: 'failed', error: message, processed, imported, failed, finishedAt: Date.now() });
        await publisher.complete(tenantId, 'imports', record.id, false, { importId: record.id, processed, imported, failed, total });
        if (imported) await publisher.invalidate(tenantId, 'orders', { action: 'created' });
        await publisher.invalidate(tenantId, 'imports', record.id, { action: 'updated' });
        await notify(db, hub, tenantId, { kind: 'import.failed', title: 'Import failed', body: record.fileName, link: '/imports' });
      } catch (inner) {
        console.error(`[imports] ${record.id}: reporting the failure failed:`, inner);
      }
    }
  }

  return {
    start(input) {
      const waiting = queues.get(input.tenantId)?.length ?? 0;
      if (waiting >= maxPendingPerTenant) throw new ImportQueueFullError(waiting);
      const csv = readOrderCsv(input.csv);
      const db = options.db();
      const record = createImport(db, {
        tenantId: input.tenantId,
        userId: input.userId,
        fileName: input.fileName,
        totalRows: csv.rowCount,
      });
      let queue = queues.get(input.tenantId);
      if (!queue) {
        queues.set(input.tenantId, (queue = []));
        turns.push(input.tenantId);
      }
      queue.push({ record, tenantId: input.tenantId, csv });
      pending++;
      // Started on a later tick: the request that queued it answers first.
      running ??= new Promise<void>((resolve) => setTimeout(resolve, 0)).then(run);
      return getImport(db, input.tenantId, record.id)!;
    },
    get pending() {
      return pending;
    },
    async idle() {
      while (running) await running;
    },
  };
}

const WORKER_KEY = Symbol.for('trpc-live.app.imports');
type WorkerGlobal = { [WORKER_KEY]?: ImportWorker };

/**
 * The process-wide import worker (on `globalThis`, like the hub and the
 * database). Creating it marks imports a previous process left unfinished
 * as failed. `IMPORT_CHUNK_ROWS` and `IMPORT_PAUSE_MS` tune its pace.
 */
export function getImportWorker(): ImportWorker {
  const g = globalThis as WorkerGlobal;
  if (!g[WORKER_KEY]) {
    failInterruptedImports(getDb());
    g[WORKER_KEY] = createImportWorker({
      db: getDb,
      hub: getHub,
      chunkRows: envValue('IMPORT_CHUNK_ROWS'),
      pauseMs: envValue('IMPORT_PAUSE_MS'),
    });
  }
  return g[WORKER_KEY];
}

/** Replaces the process-wide worker (tests). */
export function setImportWorker(worker: ImportWorker | undefined): void {
  (globalThis as WorkerGlobal)[WORKER_KEY] = worker;
}
