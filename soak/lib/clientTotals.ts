/**
 * What one client process counts across its streams, whichever client
 * implementation they run (soak/lib/clientWorker.ts, eventSourceStream.ts);
 * the runner sums the processes' totals (`stats`).
 */
import { performance } from 'node:perf_hooks';
import { Histogram } from './histogram';

export const now = () => performance.timeOrigin + performance.now();

/** Publish → receive latency of the latency flow's signals. */
export const latency = new Histogram();
/** Time from a stream's unexpected end to its next hello. */
export const resumeHello = new Histogram();
/**
 * Time from a stream's unexpected end to the TCP connect (the kernel's handshake, before the server's process
 * accepts it) of the attempt that got its next hello: with {@link resumeHello}, whether a storm's time went
 * before the server listened or after it, in its accept queue and its answer (raw streams only).
 */
export const resumeConnect = new Histogram();
/** Time from a stream's unexpected end to the first data frame or reset after its next hello. */
export const resumeFirst = new Histogram();

export const totals = {
  unexpectedEnds: 0,
  reconnects: 0,
  openErrors: 0,
  violations: 0,
  chaos: { disconnects: 0, stalls: 0, pauses: 0, pauseErrors: 0 },
  resumedBy: { reset: 0, data: 0 },
};
export const errorSamples: string[] = [];
export const violationSamples: string[] = [];
export const serializedErrors: Record<string, number> = {};
export const resetReasons: Record<string, number> = {};
export const epochs = new Set<string>();

/** Keeps the first 20 samples of a kind. */
export const sample = (list: string[], text: string) => {
  if (list.length < 20) list.push(text);
};

/** The epoch of a frame: its SSE id (`epoch:seq`), else the connection's. */
export const epochOf = (id: string, fallback: string) => {
  const colon = id.lastIndexOf(':');
  return colon > 0 ? id.slice(0, colon) : fallback;
};

/** The sequence number of an SSE id (`epoch:seq`), or NaN. */
export const seqOf = (id: string) => {
  const colon = id.lastIndexOf(':');
  return colon > 0 ? Number(id.slice(colon + 1)) : NaN;
};

/** The code of a tRPC `serialized-error` event's data. */
export function errorCode(data: string): string {
  try {
    const shape = JSON.parse(data) as { json?: { data?: { code?: string }; code?: unknown } };
    return shape.json?.data?.code ?? String(shape.json?.code ?? 'unknown');
  } catch {
    return 'unknown';
  }
}
