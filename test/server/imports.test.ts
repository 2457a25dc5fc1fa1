import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleOrderCsv } from '../../src/app/(app)/imports/sampleCsv';
import type { CompleteSignal, ProgressSignal, PublishedEntry } from 'trpc-live/core';
import { getDb } from '../../src/server/db/database';
import { getHub } from '../../src/server/appHub';
import { createImportWorker, getImportWorker, setImportWorker, type ImportWorker } from '../../src/server/imports/importWorker';
import { setupApp, type TestApp } from '../helpers/app';

describe('CSV order imports (background worker, real SQLite)', () => {
  let app: TestApp;
  let worker: ImportWorker;
  let entries: PublishedEntry[];
  let untap: () => void;
  let pauses: number;

  beforeEach(async () => {
    app = await setupApp();
    pauses = 0;
    // The real worker with its pause between chunks counted instead of waited.
    worker = createImportWorker({ db: getDb, hub: getHub, chunkRows: 100, sleep: async () => void pauses++ });
    setImportWorker(worker);
    entries = [];
    untap = app.hub.tap((entry) => entries.push(entry));
  });
  afterEach(async () => {
    untap();
    await worker.idle();
    setImportWorker(undefined);
    await app.close();
  });

  const signals = <T>(kind: string) => entries.filter((e) => e.signal.kind === kind) as Array<PublishedEntry & { signal: T }>;

  it('answers at once, then imports every row in chunks with progress on the coalesced lane and completion on the instant lane', async () => {
    const alice = await app.callerAs('alice@acme.test');
    const csv = sampleOrderCsv(1_000, ['ACM-TENT', 'ACM-PACK', 'ACM-LAMP', 'ACM-STOVE']);
    const started = await alice.imports.start({ fileName: 'orders.csv', csv });
    expect(started).toMatchObject({ status: 'queued', totalRows: 1_000, processedRows: 0, fileName: 'orders.csv' });
    expect(signals('progress')).toEqual([]);

    await worker.idle();
    const progress = signals<ProgressSignal>('progress');
    expect(progress.map((e) => e.signal.current)).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1_000]);
    expect(progress.every((e) => e.lane === 'coalesced' && e.scope === 'acme' && e.topic === `imports.${started.id}`)).toBe(true);
    expect(pauses).toBe(9); // between chunks, not after the last
    const [complete] = signals<CompleteSignal>('complete');
    expect(complete).toMatchObject({ lane: 'instant', scope: 'acme', signal: { ok: true, extra: { imported: 1_000, failed: 0, total: 1_000 } } });
    expect(entries.indexOf(complete!)).toBeGreaterThan(entries.indexOf(progress.at(-1)!));
    // Then every orders query of the tenant is stale.
    expect(entries.some((e) => e.signal.kind === 'invalidate' && e.signal.resource === 'orders' && e.signal.id === undefined)).toBe(true);

    expect(await alice.imports.byId({ id: started.id })).toMatchObject({ status: 'done', processedRows: 1_000, importedRows: 1_000, failedRows: 0 });
    const stats = await alice.dashboard.stats();
    expect(stats).toMatchObject({ orders: 1_003, imported: 1_000 });
    // Imported orders are records of past sales: stock is unchanged.
    expect((await alice.products.byId({ id: 'prd_acme_3' })).stock).toBe(6);
    expect((await alice.notifications.list())[0]).toMatchObject({ kind: 'import.done', title: 'Imported 1,000 orders' });
  });

  it('skips bad rows, counts them and names the first ones', async () => {
    const alice = await app.callerAs('alice@acme.test');
    const csv = [
      'customer,sku,quantity,status',
      'Ada,ACM-TENT,1,paid',
      '"Lovelace, Ada",acm-pack,2,',
      ',ACM-TENT,1,paid',
      'Grace,GLX-HUB,1,paid',
      'Alan,ACM-LAMP,0,paid',
      'Edsger,ACM-LAMP,1,lost',
    ].join('\r\n');
    const started = await alice.imports.start({ fileName: 'mixed.csv', csv });
    await worker.idle();
    const record = await alice.imports.byId({ id: started.id });
    expect(record).toMatchObject({ status: 'done', totalRows: 6, importedRows: 2, failedRows: 4 });
    expect(record.error).toBe(
      '4 rows skipped (line 4: customer must be 1 to 120 characters; line 5: unknown SKU "GLX-HUB"; ' +
        'line 6: quantity must be a whole number from 1 to 1000; line 7: status must be one of pending, paid, shipped, cancelled)',
    );
    const orders = await alice.orders.list({ search: 'Lovelace, Ada' });
    expect(orders).toMatchObject([{ customer: 'Lovelace, Ada', status: 'pending', totalCents: 2 * 12900, source: 'import' }]);
  });

  it('refuses a file without the required columns before queueing anything', async () => {
    const alice = await app.callerAs('alice@acme.test');
    await expect(alice.imports.start({ fileName: 'x.csv', csv: 'name,qty\nA,1\n' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: 'Missing column "customer" (expected: customer, sku, quantity, status, created_at)',
    });
    expect(worker.pending).toBe(0);
    expect(await alice.imports.list()).toEqual([]);
    expect(entries.filter((e) => e.signal.kind !== 'invalidate' || e.signal.resource !== 'imports')).toEqual([]);
  });

  it('keeps imports of one tenant invisible to another', async () => {
    const alice = await app.callerAs('alice@acme.test');
    const carol = await app.callerAs('carol@globex.test');
    const started = await alice.imports.start({ fileName: 'a.csv', csv: sampleOrderCsv(10, ['ACM-TENT']) });
    await worker.idle();
    expect(await carol.imports.list()).toEqual([]);
    await expect(carol.imports.byId({ id: started.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // The import did publish (its completion among others), so `every` below is not vacuous.
    expect(entries.filter((e) => e.signal.kind === 'complete')).toHaveLength(1);
    expect(entries.every((e) => e.scope === 'acme')).toBe(true);
  });

  it('marks an import left running by a previous process as failed when the worker starts', async () => {
    const alice = await app.callerAs('alice@acme.test');
    await alice.imports.start({ fileName: 'a.csv', csv: sampleOrderCsv(10, ['ACM-TENT']) });
    await worker.idle();
    app.db.prepare(`UPDATE imports SET status = 'running'`).run();
    setImportWorker(undefined);
    getImportWorker();
    expect((await alice.imports.list())[0]).toMatchObject({ status: 'failed', error: 'Interrupted by a server restart' });
  });
});
