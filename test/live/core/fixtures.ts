import { vi } from 'vitest';
import { createHub, type Frame, type HubOptions, type LiveMetrics, type LiveTimers } from 'trpc-live/core';
import { RecordingSink, isDataFrame } from '../../helpers/sink';

/** Runs what the hub deferred to the end of the tick (instant flushes), without moving the clock. */
export const endOfTick = () => vi.advanceTimersByTime(0);

/** A hub on vitest's fake timers (call `vi.useFakeTimers()` first) with counting metrics. */
export function fakeHub(options: HubOptions = {}) {
  const counts = {
    coalesced: 0,
    collapsed: 0,
    dropped: 0,
    resets: [] as string[],
    delivered: { instant: 0, batched: 0, coalesced: 0, replay: 0 } as Record<string, number>,
    replay: [] as Array<[boolean, number]>,
  };
  const metrics: LiveMetrics = {
    coalesced: () => counts.coalesced++,
    collapsed: (n) => (counts.collapsed += n),
    dropped: (n) => (counts.dropped += n),
    resetSent: (reason) => counts.resets.push(reason),
    delivered: (lane, n) => (counts.delivered[lane] = (counts.delivered[lane] ?? 0) + n),
    replay: (hit, n) => counts.replay.push([hit, n]),
  };
  const hub = createHub({ metrics, ...options });
  return { hub, counts };
}

/** Connects a recording sink; returns the sink, the connection, and the data writes (hello left out). */
export function connectSink(hub: ReturnType<typeof createHub>, options: Partial<Parameters<ReturnType<typeof createHub>['connect']>[0]> = {}) {
  const sink = new RecordingSink();
  const connection = hub.connect({ scope: 'acme', ...options, sink });
  return {
    sink,
    connection,
    /** Writes after the hello, each as its data frames. */
    dataWrites: () => sink.writes.slice(1).map((w) => w.filter(isDataFrame)),
  };
}

/** The compact view of a frame tests compare against. */
export const view = (frame: Frame) => {
  const m = frame.message as unknown as Record<string, unknown>;
  const what = m.kind === 'invalidate' ? `${m.resource}${m.id ? `:${m.id}` : ''}` : m.kind === 'progress' ? `${m.key}=${m.current}` : m.kind === 'event' ? String(m.topic) : String(m.kind);
  return `${m.kind}:${what}@${frame.seq}`;
};

/**
 * A clock that only moves when the test (or a sink "paying" for its write)
 * moves it, and a queue of deferred callbacks run one event-loop turn at a time.
 */
export function steppedClock() {
  const clock = { t: 0 };
  const deferred: Array<() => void> = [];
  const timers: LiveTimers = {
    now: () => clock.t,
    setTimeout: () => ({}),
    clearTimeout: () => undefined,
    defer: (fn) => void deferred.push(fn),
  };
  /** Runs the callbacks deferred so far (one turn); returns how many ran. */
  const turn = (): number => {
    const batch = deferred.splice(0);
    for (const fn of batch) fn();
    return batch.length;
  };
  /** Runs turns until nothing is deferred. */
  const drain = (): void => {
    while (turn());
  };
  return { clock, timers, turn, drain };
}
