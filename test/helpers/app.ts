import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHub, type Hub, type HubOptions } from 'trpc-live/core';
import { signSession } from '../../src/server/auth/session';
import { createContext } from '../../src/server/context';
import { openDb, setDb, type Db } from '../../src/server/db/database';
import { demoUsers } from '../../src/server/db/seed';
import { hubOptions, setHub } from '../../src/server/appHub';
import { appRouter } from '../../src/server/routers/_app';
import { createCallerFactory } from '../../src/server/trpc/init';

export type DemoEmail = (typeof demoUsers)[number]['email'];

/** A cookie header for a seeded user, signed like a real sign-in. */
export async function sessionCookieFor(email: DemoEmail): Promise<string> {
  const user = demoUsers.find((u) => u.email === email)!;
  const token = await signSession({ userId: user.id, tenantId: user.tenantId, role: user.role, name: user.name, email });
  return `live_session=${encodeURIComponent(token)}`;
}

const createCaller = createCallerFactory(appRouter);
export type Caller = ReturnType<typeof createCaller>;

export interface TestApp {
  readonly db: Db;
  readonly hub: Hub;
  readonly dir: string;
  /** A `createCaller` caller authenticated as a seeded user (real JWT, real context). */
  callerAs(email: DemoEmail, options?: { signal?: AbortSignal }): Promise<Caller>;
  /** An unauthenticated caller. */
  anonymous(): Promise<Caller>;
  close(): Promise<void>;
}


/**
 * A fresh app for one test file: a real SQLite file in a temp folder
 * (migrated and seeded), and a fresh hub installed as the process-wide one.
 */
export async function setupApp(options: HubOptions = {}): Promise<TestApp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'trpc-live-test-'));
  const db = openDb(path.join(dir, 'app.db'));
  const hub = createHub({ ...hubOptions(), ...options });
  setDb(db);
  setHub(hub);
  return {
    db,
    hub,
    dir,
    async callerAs(email, options) {
      const headers = new Headers({ cookie: await sessionCookieFor(email) });
      return createCaller(await createContext({ headers }), options);
    },
    async anonymous() {
      return createCaller(await createContext({ headers: new Headers() }));
    },
    async close() {
      await hub.close();
      db.close();
      setDb(undefined);
      setHub(undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
