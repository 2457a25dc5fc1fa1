// Instrumentation host for the soak scenarios: runs the unchanged production
// entry (dist/main.js) in this process and answers the soak runner over IPC.
// Nothing here is part of the product: it exists only when the soak harness
// starts the server (`node --expose-gc soak/lib/serverHost.mjs`), which is why
// the product needs no test hook of its own.
//
// What it adds, and why:
// - `memory`: heap after a full GC (`--expose-gc`), the only honest figure for
//   "memory returned after churn" (a scrape of process metrics sees garbage);
// - `connections`: what the hub holds for given streams (outbox frames, dirty
//   keys, bytes, the socket's unflushed buffer), read from the hub's objects;
// - `publish` / `flow`: publishes through the app's process-wide hub, the call
//   the app's mutations make after they commit, at volumes and with routing
//   (tenants, groups, topics) the demo's mutations cannot produce;
// - `record`: every publish made through the hub's API while the server runs
//   (the harness's own and the app's, after its mutations commit): the call's
//   scope, topic, groups and signal, with the receipt it got back. This is
//   what the oracles check clients against: it is taken where the publisher
//   hands the signal over, so a loss anywhere between publish and delivery
//   shows as a missing frame;
// - `tap`: every entry the hub says it delivered, a diagnostic only (the
//   hub's own account cannot reveal the hub's losses);
// - `resetSockets`: a connection reset from the server side (every live socket
//   destroyed at once), the start of a reconnect storm.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { setImmediate as tick } from 'node:timers/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';

// The app's hub, where the package's processHub() keeps it (packages/trpc-live/src/core/processHub.ts):
// dist/main.js bundles the package, so this plain script cannot import the holder itself.
const HUB_KEY = Symbol.for('trpc-live.hub');
const now = () => performance.timeOrigin + performance.now();

function hub() {
  const h = globalThis[HUB_KEY];
  if (!h) throw new Error('the app has not created its hub yet');
  return h;
}

async function memory() {
  if (typeof globalThis.gc !== 'function') throw new Error('start the server with --expose-gc');
  // Several rounds: the first frees objects whose finalizers free more.
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await tick();
  }
  const usage = process.memoryUsage();
  const heap = v8.getHeapStatistics();
  return { ...usage, totalHeapSize: heap.total_heap_size, connections: hub().connectionCount };
}

/** Payload and wire bytes of the frames an outbox holds (frames may be shared with other streams). */
function outboxBytes(connection) {
  const outbox = connection.outbox;
  let frames = 0;
  let bytes = 0;
  const seen = (frame) => {
    frames++;
    bytes += frame.payload.length + (frame.wire ? frame.wire.length : 0);
  };
  if (outbox?.lanes) for (const lane of Object.values(outbox.lanes)) for (const frame of lane.values()) seen(frame);
  if (outbox?.dirty) for (const frame of outbox.dirty.values()) seen(frame);
  return { frames, bytes };
}

function describe(connection) {
  const sink = connection.sink;
  const socket = sink?.res?.socket;
  const held = outboxBytes(connection);
  return {
    id: connection.id,
    scope: connection.scope,
    groups: connection.groups,
    patterns: connection.patterns,
    paused: connection.paused,
    pendingFrames: connection.pendingFrames,
    pendingBytes: connection.pendingBytes,
    dirtyKeys: connection.dirtyKeys,
    dirtyBytes: connection.dirtyBytes,
    resetPending: connection.resetPending,
    heldFrames: held.frames,
    heldBytes: held.bytes,
    sinkPendingBytes: typeof sink?.pendingBytes === 'function' ? sink.pendingBytes() : 0,
    socketBufferedBytes: socket ? socket.writableLength : 0,
    bytesWritten: socket ? socket.bytesWritten : 0,
  };
}

const matches = (connection, filter = {}) =>
  (!filter.scope || connection.scope === filter.scope) &&
  Object.entries(filter.groups ?? {}).every(([k, v]) => connection.groups[k] === v);

/** Publishes recorded at the hub's API since the server started (see `record` above). */
const record = [];
let recordFailures = 0;

/** The routing fields of a signal (no hint): what the oracles need, small enough to send over IPC. */
function shape(signal) {
  return {
    kind: signal?.kind,
    ...(signal?.resource !== undefined ? { resource: signal.resource } : {}),
    ...(signal?.id !== undefined ? { id: String(signal.id) } : {}),
    ...(signal?.key !== undefined ? { key: signal.key } : {}),
    ...(signal?.topic !== undefined ? { topic: signal.topic } : {}),
    ...(Array.isArray(signal?.events) ? { events: signal.events.map(shape) } : {}),
  };
}

/**
 * Records every call to the hub's `publish` (its `invalidate`, `signal`,
 * `progress`, `complete` and `batch` all go through it) with the receipt it
 * resolved to. An own property shadows the method on this one hub object;
 * the product is not changed. A rejected publish published nothing.
 */
function startRecording() {
  const h = hub();
  if (Object.hasOwn(h, 'publish')) return;
  const publish = h.publish;
  h.publish = async function recordedPublish(scope, signal, options) {
    let receipt;
    try {
      receipt = await publish.call(this, scope, signal, options);
    } catch (error) {
      recordFailures++;
      throw error;
    }
    record.push({
      seq: receipt.seq,
      epoch: receipt.epoch,
      scope,
      ...(options?.topic !== undefined ? { topic: options.topic } : {}),
      ...(options?.groups ? { groups: options.groups } : {}),
      signal: shape(signal),
    });
    return receipt;
  };
}

let tapped = null;
let untap = null;
const flows = new Map();

/** One signal of a flow: an invalidation whose hint carries what the clients check. */
function flowSignal(flow, n) {
  const id = flow.keys ? `${flow.name}-${n % flow.keys}` : `${flow.name}-${n}`;
  return { resource: flow.resource ?? 'soak', id, action: 'updated', hint: { f: flow.name, n, t: now(), ...(flow.pad ? { pad: flow.pad } : {}) } };
}

function startFlow(spec) {
  const flow = { ...spec, n: 0, lastSeq: 0, errors: 0, pad: spec.padBytes ? 'x'.repeat(spec.padBytes) : '' };
  const perTick = Math.max(1, Math.round((spec.ratePerSec * spec.tickMs) / 1000));
  flow.timer = setInterval(() => {
    for (let i = 0; i < perTick; i++) {
      const n = flow.n++;
      const scope = spec.scopes[n % spec.scopes.length];
      hub()
        .invalidate(scope, flowSignal(flow, n), spec.topic ? { topic: spec.topic } : undefined)
        .then((receipt) => {
          if (receipt.seq > flow.lastSeq) flow.lastSeq = receipt.seq;
        })
        .catch(() => flow.errors++);
    }
  }, spec.tickMs);
  flows.set(spec.name, flow);
}

async function stopFlow(name) {
  const flow = flows.get(name);
  if (!flow) return null;
  clearInterval(flow.timer);
  flows.delete(name);
  await tick();
  return { name, published: flow.n, lastSeq: flow.lastSeq, errors: flow.errors };
}

async function publish(items) {
  const seqs = [];
  // Taken just before the first publish: a fan-out round's start (capacity), as the transport bench's servers take it.
  const t0 = now();
  for (const item of items) {
    const signal = item.stamp && item.signal.hint ? { ...item.signal, hint: { ...item.signal.hint, t: now() } } : item.signal;
    try {
      const receipt = await hub().publish(item.scope, signal, item.options ?? {});
      seqs.push(receipt.seq);
    } catch (error) {
      seqs.push(-1);
      if (item.mustSucceed) throw error;
    }
  }
  return { seqs, t0 };
}

function resetSockets(filter) {
  let count = 0;
  for (const connection of [...hub().connections()]) {
    if (!matches(connection, filter)) continue;
    const socket = connection.sink?.res?.socket;
    if (!socket) continue;
    if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket.destroy();
    count++;
  }
  return { count };
}

const commands = {
  ping: () => ({ pid: process.pid }),
  // CPU time of this process so far (user + system, µs): the server's cost of a phase is a difference.
  cpu: () => process.cpuUsage(),
  memory,
  // A heap snapshot after GC, for diagnosing growth (not used by the scenarios' figures).
  heapSnapshot: async ({ file }) => {
    await memory();
    return { file: v8.writeHeapSnapshot(file) };
  },
  hub: () => {
    const stats = hub().stats();
    return { connections: hub().connectionCount, stats };
  },
  connections: ({ filter }) => [...hub().connections()].filter((c) => matches(c, filter)).map(describe),
  publish: ({ items }) => publish(items),
  flowStart: ({ flow }) => {
    startFlow(flow);
    return { started: flow.name };
  },
  flowStop: ({ name }) => stopFlow(name),
  // Signals a running flow published so far (capacity: how many fan-outs fell inside the storm's CPU window).
  flowCount: ({ name }) => ({ published: flows.get(name)?.n ?? 0 }),
  recordStart: () => {
    startRecording();
    return { recording: true };
  },
  // The recorded publishes from index `since` on (the runner keeps the whole record).
  recordTake: ({ since = 0 }) => ({ entries: record.slice(since), total: record.length, failures: recordFailures }),
  // Diagnostic only: what the hub says it delivered.
  tapStart: () => {
    tapped = [];
    untap?.();
    untap = hub().tap((entry) => {
      tapped.push({
        seq: entry.seq,
        epoch: entry.epoch,
        scope: entry.scope,
        topic: entry.topic,
        key: entry.key ?? `#${entry.seq}`,
        kind: entry.signal.kind,
        ...(entry.groups ? { groups: entry.groups } : {}),
      });
    });
    return { tapping: true };
  },
  tapTake: ({ stop }) => {
    const entries = tapped ?? [];
    tapped = stop ? null : [];
    if (stop) {
      untap?.();
      untap = null;
    }
    return { entries };
  },
  resetSockets: ({ filter }) => resetSockets(filter),
};

process.on('message', async (message) => {
  if (!message || typeof message !== 'object' || message.soak !== true) return;
  const { id, command, args } = message;
  try {
    const fn = commands[command];
    if (!fn) throw new Error(`unknown command ${command}`);
    const result = await fn(args ?? {});
    process.send({ soak: true, id, ok: true, result });
  } catch (error) {
    process.send({ soak: true, id, ok: false, error: String(error?.stack ?? error) });
  }
});
// The IPC channel must not keep the process alive after the server closes (SIGTERM).
process.channel?.unref();

// Diagnostic, off by default: SOAK_LISTEN_BACKLOG=<n> makes the app's `listen(port, host, backlog, cb)` ask for an
// accept queue of n instead (the app asks for 4,096, src/main.ts; Node's default is 511; the kernel caps it at
// net.core.somaxconn), to measure how much of a reconnect storm's tail is connects dropped by a full accept queue
// and retried after the client's SYN backoff (1, 2, 4 ... s).
if (process.env.SOAK_LISTEN_BACKLOG) {
  const backlog = Number(process.env.SOAK_LISTEN_BACKLOG);
  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function listenWithBacklog(...args) {
    if (typeof args[0] === 'number' && typeof args[1] === 'string' && typeof args.at(-1) === 'function') {
      return listen.call(this, { port: args[0], host: args[1], backlog }, args.at(-1));
    }
    return listen.apply(this, args);
  };
}

await import(pathToFileURL(path.resolve(process.cwd(), 'dist/main.js')).href);
