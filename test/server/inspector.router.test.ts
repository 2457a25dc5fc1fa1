import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupApp, type TestApp } from '../helpers/app';

describe('inspector: admins only', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await setupApp();
  });
  afterAll(() => app.close());

  it('answers FORBIDDEN with a clear message when a staff user asks for the snapshot or the watch', async () => {
    const staff = await app.callerAs('bob@acme.test');
    const forbidden = { code: 'FORBIDDEN', message: 'The live inspector is for admins only' };
    await expect(staff.inspector.snapshot()).rejects.toMatchObject(forbidden);
    await expect((async () => (await staff.inspector.watch())[Symbol.asyncIterator]().next())()).rejects.toMatchObject(forbidden);
  });

  it("gives an admin the tenant's snapshot and watch", async () => {
    const abort = new AbortController();
    const admin = await app.callerAs('alice@acme.test', { signal: abort.signal });
    await expect(admin.inspector.snapshot()).resolves.toBeTruthy();
    const first = await (await admin.inspector.watch())[Symbol.asyncIterator]().next();
    expect(first.done).toBe(false);
    abort.abort();
  });
});
