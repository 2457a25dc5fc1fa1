import { afterAll, beforeAll } from 'vitest';
import { setupApp, type TestApp } from './app';
import { serveTrpc, type ServeTrpcOptions } from './http';

/** A fresh app served on loopback for one describe block (see {@link useServedApp}). */
export interface ServedApp {
  /** The app's database and hub. */
  readonly app: TestApp;
  /** Base URL of the tRPC server (`http://127.0.0.1:<port>`). */
  readonly url: string;
}

/**
 * Sets up a fresh app (database, hub) and serves its tRPC handler on a
 * loopback port before the tests of the calling describe block, and closes
 * both after them. Read `app` and `url` inside tests and hooks only.
 */
export function useServedApp(options: ServeTrpcOptions = {}): ServedApp {
  let app: TestApp | undefined;
  let server: Awaited<ReturnType<typeof serveTrpc>> | undefined;
  beforeAll(async () => {
    app = await setupApp();
    server = await serveTrpc(options);
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useServedApp: read app and url inside tests or hooks');
    return value;
  };
  return {
    get app() {
      return ready(app);
    },
    get url() {
      return ready(server).url;
    },
  };
}
