/**
 * The import queue, found by a probe of the production server: one tenant
 * (bob, acme) queued 20 files of 4.65 M characters, and another tenant's
 * (carol, globex) 1-row import waited behind all of them for over 30 s while
 * each queued file stayed in memory (RSS +84 MB). Now a tenant has at most 3
 * imports pending, and tenants take turns chunk by chunk.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CompleteSignal, PublishedEntry } from 'trpc-live/core';
import { sampleOrderCsv } from '../../src/app/(app)/imports/sampleCsv';
import { getDb } from '../../src/server/db/database';
import { getHub } from '../../src/server/appHub';
import { createImportWorker, MAX_PENDING_IMPORTS_PER_TENANT, setImportWorker, type ImportWorker } from '../../src/server/imports/importWorker';
import { setupApp, type TestApp } from '../helpers/app';

describe('import queue (per-tenant bound, tenants in turns)', () => {
  let app: TestApp;
  let worker: ImportWorker;
  let completions: string[];
  let untap: () => void;

  beforeEach(async () => {
    app = await setupApp();
    worker = createImportWorker({ db: getDb, hub: getHub, chunkRows: 100, sleep: async () => undefined });
    setImportWorker(worker);
    completions = [];
    // The order imports finish in, as `<tenant>:<import id>`.
    untap = app.hub.tap((entry: PublishedEntry) => {
      if (entry.signal.kind === 'complete') completions.push(`${entry.scope}:${(entry.signal as CompleteSignal).extra?.importId}`);
    });
  });
  afterEach(async () => {
    untap();
    await worker.idle();
    setImportWorker(undefined);
    await app.close();
  });

  it("finishes one tenant's 1-row import before another tenant's backlog queued earlier", async () => {
    const bob = await app.callerAs('bob@acme.test');
    const carol = await app.callerAs('carol@globex.test');
    const backlog = [];
    for (let i = 0; i < 3; i++) backlog.push(await bob.imports.start({ fileName: `big-${i}.csv`, csv: sampleOrderCsv(1_000, ['ACM-TENT']) }));
    const small = await carol.imports.start({ fileName: 'small.csv', csv: 'customer,sku,quantity\nZed,GLX-HUB,1\n' });
    await worker.idle();
    // In turns: carol's import runs after one chunk of bob's first file, not after bob's 3,000 rows.
    expect(completions).toEqual([`globex:${small.id}`, ...backlog.map((b) => `acme:${b.id}`)]);
    expect(await carol.imports.byId({ id: small.id })).toMatchObject({ status: 'done', importedRows: 1 });
    for (const b of backlog) expect(await bob.imports.byId({ id: b.id })).toMatchObject({ status: 'done', importedRows: 1_000 });
  });

  it('refuses a tenant its 4th pending import with TOO_MANY_REQUESTS, and takes it again once one has finished', async () => {
    expect(MAX_PENDING_IMPORTS_PER_TENANT).toBe(3);
    const bob = await app.callerAs('bob@acme.test');
    const alice = await app.callerAs('alice@acme.test');
    const carol = await app.callerAs('carol@globex.test');
    const csv = sampleOrderCsv(300, ['ACM-TENT']);
    for (let i = 0; i < 3; i++) await bob.imports.start({ fileName: `f${i}.csv`, csv });
    // Per tenant, not per user: alice is of bob's tenant.
    await expect(alice.imports.start({ fileName: 'f3.csv', csv })).rejects.toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      message: 'Your tenant has 3 imports queued or running, the most it may have; start another when one has finished',
    });
    expect(worker.pending).toBe(3);
    // Another tenant is not refused.
    await carol.imports.start({ fileName: 'g.csv', csv: 'customer,sku,quantity\nZed,GLX-HUB,1\n' });
    expect(worker.pending).toBe(4);
    expect((await alice.imports.list()).length).toBe(3);
    await worker.idle();
    expect(worker.pending).toBe(0);
    await expect(alice.imports.start({ fileName: 'f3.csv', csv })).resolves.toMatchObject({ status: 'queued' });
  });

  it('refuses a header of 200,000 columns with 400 before queueing it', async () => {
    const bob = await app.callerAs('bob@acme.test');
    const csv = `customer,sku,quantity${',c'.repeat(200_000)}\n${'Ann,ACM-LAMP,1\n'.repeat(100)}`;
    await expect(bob.imports.start({ fileName: 'wide.csv', csv })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: "The header line is longer than 8,192 characters; an order file's header is a few column names",
    });
    expect(worker.pending).toBe(0);
  });

  it('refuses a file name with a control or bidirectional-override character with 400', async () => {
    const bob = await app.callerAs('bob@acme.test');
    const csv = 'customer,sku,quantity\nAnn,ACM-LAMP,1\n';
    for (const fileName of ['../../etc/passwd\u0000\u202e.csv', 'invoice\u202efdp.csv', 'a\u2066b.csv', 'tab\tname.csv', 'del\u007f.csv']) {
      const refused = await bob.imports.start({ fileName, csv }).then(
        () => 'accepted',
        (error: { code: string; message: string }) => `${error.code}: ${error.message.includes('The file name contains control or bidirectional-override characters; rename the file')}`,
      );
      expect([fileName, refused]).toEqual([fileName, 'BAD_REQUEST: true']);
    }
    expect(await bob.imports.list()).toEqual([]);
    await expect(bob.imports.start({ fileName: 'Bestellungen März – 東京.csv', csv })).resolves.toMatchObject({ fileName: 'Bestellungen März – 東京.csv' });
  });
});
