import { describe, expect, it } from 'vitest';
import { createHub, type CloseReason, type Frame, type LiveSink } from 'trpc-live/core';
import { steppedClock } from './fixtures';

/** A sink whose close costs `ms` on the stepped clock (ending an HTTP response is the expensive part of a drain). */
class ClosingSink implements LiveSink {
  readonly frames: Frame[] = [];
  closedWith: CloseReason | null = null;
  closes = 0;
  constructor(
    private readonly clock: { t: number },
    private readonly ms: number,
  ) {}
  write(frames: readonly Frame[]): void {
    this.frames.push(...frames);
  }
  pendingBytes(): number {
    return 0;
  }
  onDrain(fn: () => void): void {
    fn();
  }
  close(reason: CloseReason): void {
    this.closes++;
    this.closedWith = reason;
    this.clock.t += this.ms;
  }
}

const reconnects = (sink: ClosingSink) => sink.frames.filter((f) => f.message.kind === 'reconnect');

function drainingHub(streams: number, closeMs: number) {
  const { clock, timers, turn, drain } = steppedClock();
  const hub = createHub({ timers });
  const sinks = Array.from({ length: streams }, () => new ClosingSink(clock, closeMs));
  const connections = sinks.map((sink) => hub.connect({ scope: 'acme', sink }));
  return { hub, sinks, connections, turn, drain };
}

describe('hub.drain: streams are told and closed in slices of about 4 ms, one per event-loop turn', () => {
  it('tells and closes what fits in 4 ms of the hub clock now, the rest in later turns, each stream once', () => {
    const { hub, sinks, turn, drain } = drainingHub(100, 0.1);
    expect(hub.drain({ jitterMs: 1000, random: () => 0.25 })).toBe(100);
    expect(hub.draining).toBe(true);
    // 0.1 ms per close, the clock read every 16 streams: 1.6, 3.2, 4.8 ms, so the first slice ends after 48.
    expect(sinks.filter((s) => s.closedWith === 'drain')).toHaveLength(48);
    expect(turn()).toBe(1);
    expect(sinks.filter((s) => s.closedWith === 'drain')).toHaveLength(96);
    drain();
    for (const sink of sinks) {
      expect(sink.closes).toBe(1);
      expect(sink.closedWith).toBe('drain');
      expect(reconnects(sink).map((f) => f.message)).toEqual([{ kind: 'reconnect', afterMs: 250, reason: 'drain' }]);
    }
    expect(hub.connectionCount).toBe(0);
  });

  it('tells every stream in the call when they fit in one slice (nothing deferred)', () => {
    const { hub, sinks, turn } = drainingHub(10, 0.01);
    expect(hub.drain({ jitterMs: 0 })).toBe(10);
    expect(sinks.every((s) => s.closedWith === 'drain')).toBe(true);
    expect(turn()).toBe(0);
  });

  it('skips a stream that went away before its slice, and refuses new streams while draining', () => {
    const { hub, sinks, connections, drain } = drainingHub(100, 1);
    hub.drain({ jitterMs: 0 });
    const told = sinks.filter((s) => s.closedWith).length;
    expect(told).toBeLessThan(100);
    connections[99]!.dispose(); // the client left meanwhile
    expect(() => hub.connect({ scope: 'acme', sink: new ClosingSink({ t: 0 }, 0) })).toThrow(/restarting/);
    drain();
    expect(sinks[99]!.closes).toBe(0);
    expect(reconnects(sinks[99]!)).toHaveLength(0);
    expect(sinks.slice(0, 99).every((s) => s.closes === 1 && reconnects(s).length === 1)).toBe(true);
  });

  it('a second drain while the first is still telling tells no one twice', () => {
    const { hub, sinks, drain } = drainingHub(100, 1);
    expect(hub.drain({ jitterMs: 0 })).toBe(100);
    expect(hub.drain({ jitterMs: 0 })).toBe(0);
    drain();
    expect(sinks.every((s) => s.closes === 1 && reconnects(s).length === 1)).toBe(true);
  });

  it('delivers a publish to streams still open at its flush, before their reconnect, and nothing to those already closed', async () => {
    const { hub, sinks, drain } = drainingHub(100, 1);
    hub.drain({ jitterMs: 0 });
    const closedBefore = new Set(sinks.filter((s) => s.closedWith));
    await hub.invalidate('acme', { resource: 'orders', id: '1' });
    drain();
    let reached = 0;
    for (const sink of sinks) {
      const kinds = sink.frames.map((f) => f.message.kind);
      expect(kinds.at(-1)).toBe('reconnect');
      if (!kinds.includes('invalidate')) continue;
      reached++;
      expect(closedBefore.has(sink)).toBe(false);
    }
    // The flush comes after the drain slice already deferred (1 ms per close: 16 a slice): streams closed by then
    // resume from their cursor and get the signal by replay.
    expect(reached).toBe(100 - 2 * 16);
  });
});
