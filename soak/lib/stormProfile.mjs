// Where a reconnect storm's server CPU goes: reads a CPU profile of the soak server (SOAK_CPU_PROF=<dir>, e.g.
// `SOAK_CPU_PROF=/tmp/prof npm run soak -- capacity`) and splits the samples of the storm's window into parts of a
// reconnect. Diagnostic only (no scenario reads it).
//
//   node soak/lib/stormProfile.mjs <server .cpuprofile> <reconnects> [window seconds, default 10]
//
// The window starts at the first sample inside the server host's `resetSockets` (the storm's reset); pass the
// storm's `allResumedMs` (raw result) as the window to match the scenario's own CPU figure. Each sample goes to the
// first part below whose function is on its stack (most specific first); names are those of the production
// bundle (dist/main.js) and of Node's internals (Node 20).
import { readFileSync } from 'node:fs';

const PARTS = [
  ['idle', (f) => f.name === '(idle)'],
  ['GC', (f) => f.name === '(garbage collector)'],
  ['harness: resetSockets (the RSTs, sent by the server host)', (f) => f.name === 'resetSockets'],
  ['harness: other IPC and records', (f) => f.url.includes('serverHost.mjs')],
  ['fan-outs of the flow (not reconnects)', (f) => /^(flush|flushInstant|flushSlice)$/.test(f.name) && f.bundle],
  ['first write (sink.attach: head, preamble, hello, replay)', (f) => f.name === 'attach' && f.bundle],
  ['hub connect (subscribe, hello, replay)', (f) => f.name === 'connect' && f.bundle],
  ['tRPC procedure and middleware', (f) => f.name === 'startLiveStream' || (/initTRPC/.test(f.url) && /callRecursive|procedure|next|inputValidatorMiddleware/.test(f.name))],
  ['context: socket peer address (getpeername)', (f) => f.name === 'Socket._getpeername'],
  ['context: session and the rest of createContext', (f) => /^(createContext|verifyToken|verifySession|authenticate|trustedProxies)$/.test(f.name)],
  ['tRPC getRequestInfo', (f) => f.name === 'getRequestInfo'],
  ['transport serve/handle (URL, Headers, sink, head)', (f) => /^(serve|handle)$/.test(f.name) && f.bundle],
  ['close: node:http abortIncoming (ECONNRESET of an unread request)', (f) => f.name === 'abortIncoming'],
  ['close: ours (peerGone: hub leave, abort signal)', (f) => /^(peerGone|onPeerGone)$/.test(f.name)],
  ['close: node socket teardown', (f) => /socketOnClose|Socket._destroy|emitCloseNT|onServerResponseClose/.test(f.name)],
  ['accept (onconnection, http connectionListener)', (f) => /^(onconnection|connectionListener|connectionListenerInternal)$/.test(f.name)],
  ['HTTP parse', (f) => /parserOn|onParserExecute|socketOnData/.test(f.name)],
  ['microtasks, async_hooks, nextTick', (f) => /processTicksAndRejections|runMicrotasks|promiseInitHook|emitInit|_propagate|callbackTrampoline/.test(f.name)],
];

const [file, reconnectsArg, windowArg] = process.argv.slice(2);
if (!file || !reconnectsArg) {
  console.error('usage: node soak/lib/stormProfile.mjs <server .cpuprofile> <reconnects> [window seconds]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const reconnects = Number(reconnectsArg);
const windowUs = Number(windowArg ?? 10) * 1e6;
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
const frame = (n) => ({ name: n.callFrame.functionName, url: n.callFrame.url, bundle: n.callFrame.url.endsWith('dist/main.js') });
const stack = (id) => {
  const frames = [];
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) frames.push(frame(nodes.get(cur)));
  return frames;
};
const partOf = new Map();
const classify = (id) => {
  if (!partOf.has(id)) {
    const frames = stack(id);
    partOf.set(id, PARTS.find(([, test]) => frames.some(test))?.[0] ?? 'other');
  }
  return partOf.get(id);
};

// Sample times, then the window from the storm's reset.
const times = [];
let t = profile.startTime;
for (const delta of profile.timeDeltas) times.push((t += delta));
const resetAt = profile.samples.findIndex((id) => stack(id).some((f) => f.name === 'resetSockets'));
if (resetAt < 0) {
  console.error('no sample inside resetSockets: not a storm profile of the soak server host');
  process.exit(1);
}
const from = times[resetAt];
const totals = new Map();
let sampled = 0;
profile.samples.forEach((id, i) => {
  if (times[i] < from || times[i] > from + windowUs) return;
  const us = profile.timeDeltas[i];
  const part = classify(id);
  totals.set(part, (totals.get(part) ?? 0) + us);
  sampled += us;
});
const busy = sampled - (totals.get('idle') ?? 0);
console.log(
  `window ${((from - profile.startTime) / 1e6).toFixed(2)} s + ${windowUs / 1e6} s: ${(sampled / 1000).toFixed(0)} ms sampled, ` +
    `${(busy / 1000).toFixed(0)} ms busy, ${(busy / reconnects).toFixed(0)} µs per reconnect (${reconnects})`,
);
for (const [part, us] of [...totals].sort((a, b) => b[1] - a[1])) {
  console.log(`${(us / 1000).toFixed(0).padStart(7)} ms ${(us / reconnects).toFixed(1).padStart(7)} µs/reconnect  ${part}`);
}
