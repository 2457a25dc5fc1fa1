// The app's production entry (dist/main.js, built by `npm run build`), run in
// this process with the benchmark's IPC hooks. LIVE_TRANSPORT=stock makes
// main.js leave the live stream to the stock tRPC route inside Next.
// Events are published into the app's own hub, which main.js and Next's route
// bundles share through globalThis: the package's processHub() holder
// (packages/trpc-live/src/core/processHub.ts; its key moved there from the
// app's own 'trpc-live.app.hub' in 8063a56, which left this script publishing
// into nothing).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { serveIpc } from './ipc.mjs';

const HUB = Symbol.for('trpc-live.hub');
const hub = () => globalThis[HUB];

serveIpc({
  connections: () => hub()?.connectionCount ?? 0,
  publish(round, count) {
    for (let i = 0; i < count; i++) void hub().invalidate('acme', { resource: 'bench', id: `${round}-${i}` });
  },
});
await import(pathToFileURL(path.resolve(process.cwd(), 'dist/main.js')).href);
