// `npm start`: builds when the build is missing or older than the sources,
// then runs the production server. One command on a fresh clone.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function newest(target) {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let max = stat.mtimeMs;
  for (const entry of readdirSync(target)) max = Math.max(max, newest(path.join(target, entry)));
  return max;
}

const builtAt = Math.min(newest('.next/BUILD_ID'), newest('dist/main.js'));
const sourcesAt = Math.max(newest('src'), newest('package-lock.json'), newest('next.config.mjs'));
if (!builtAt || sourcesAt > builtAt) {
  console.log('[start] building (sources changed or no build yet)…');
  const result = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
const server = spawn(process.execPath, ['--enable-source-maps', 'dist/main.js', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { NODE_ENV: 'production', ...process.env },
});
// Forward stop signals so the server drains (see README, "What happens on SIGTERM").
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.kill(signal));
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
