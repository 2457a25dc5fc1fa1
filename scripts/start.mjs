// `npm start`: builds when the build is missing or older than the sources,
// then runs the production server. One command on a fresh clone.
import { spawn } from 'node:child_process';
import { ensureBuild } from './ensure-build.mjs';
import { SERVER_NODE_FLAGS } from './serverFlags.mjs';

try {
  ensureBuild();
} catch (error) {
  console.error(String(error instanceof Error ? error.message : error));
  process.exit(1);
}
const server = spawn(process.execPath, [...SERVER_NODE_FLAGS, 'dist/main.js', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { NODE_ENV: 'production', ...process.env },
});
// Forward stop signals so the server drains (see README, "What happens on SIGTERM").
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.kill(signal));
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
