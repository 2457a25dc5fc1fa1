import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHub, type Hub, type HubOptions, type LiveMessage } from 'trpc-live/core';
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

/** A live stream opened through the app's procedure (see {@link TestApp.openStreamAs}). */
export interface OpenedStream {
  /** The connection id its hello carried. */
  readonly id: string;
  /** The next message (a tracked frame's message, unwrapped from `[id, message, symbol]`). */
  next(): Promise<LiveMessage>;
}

export interface TestApp {
  readonly db: Db;
  readonly hub: Hub;
  readonly dir: string;
  /** A `createCaller` caller authenticated as a seeded user (real JWT, real context). */
  callerAs(email: DemoEmail, options?: { signal?: AbortSignal }): Promise<Caller>;
  /** An unauthenticated caller. */
  anonymous(): Promise<Caller>;
  /** Opens `email`'s live stream through the `live.stream` procedure, until `signal` aborts. */
  openStreamAs(email: DemoEmail, signal: AbortSignal): Promise<OpenedStream>;
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
  const callerAs: TestApp['callerAs'] = async (email, options) => {
    const headers = new Headers({ cookie: await sessionCookieFor(email) });
    return createCaller(await createContext({ headers }), options);
  };
  return {
    db,
    hub,
    dir,
    callerAs,
    async anonymous() {
      return createCaller(await createContext({ headers: new Headers() }));
    },
    async openStreamAs(email, signal) {
      const caller = await callerAs(email, { signal });
      const iterator = (await caller.live.stream())[Symbol.asyncIterator]();
      const unwrap = (value: unknown) => (Array.isArray(value) ? value[1] : value) as LiveMessage;
      // A fresh stream's hello is tracked (it carries the starting cursor).
      const hello = unwrap((await iterator.next()).value);
      if (hello.kind !== 'hello') throw new Error(`the stream opened with ${hello.kind}, not hello`);
      return { id: hello.connectionId, next: async () => unwrap((await iterator.next()).value) };
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
