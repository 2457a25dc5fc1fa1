import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHub } from 'trpc-live/core';
import { RecordingSink } from '../../helpers/sink';

describe('hub: stream lifetime (credential expiry and rotation)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('closes a stream with reason unauthorized when its credential expires', () => {
    const hub = createHub();
    const sink = new RecordingSink();
    hub.connect({ scope: 'acme', sink, expiresAt: Date.now() + 60_000 });
    vi.advanceTimersByTime(59_999);
    expect(sink.closed).toBeNull();
    vi.advanceTimersByTime(1);
    expect(sink.closed).toBe('unauthorized');
    expect(hub.connectionCount).toBe(0);
  });

  it('rotates a stream after maxDurationMs with a reconnect hint, within 10 % jitter', () => {
    const hub = createHub({ maxDurationMs: 100_000 });
    const sink = new RecordingSink();
    hub.connect({ scope: 'acme', sink });
    vi.advanceTimersByTime(89_999);
    expect(sink.closed).toBeNull();
    vi.advanceTimersByTime(10_001);
    expect(sink.closed).toBe('rotate');
    expect(sink.frames.at(-1)!.message).toMatchObject({ kind: 'reconnect', reason: 'rotate' });
    expect(sink.frames.at(-1)!.id).toBeNull();
  });

  it('prefers expiry over rotation when the credential expires first', () => {
    const hub = createHub({ maxDurationMs: 100_000 });
    const sink = new RecordingSink();
    hub.connect({ scope: 'acme', sink, expiresAt: Date.now() + 5_000 });
    vi.advanceTimersByTime(5_000);
    expect(sink.closed).toBe('unauthorized');
  });

  it('leaves no timer behind when the stream goes away first', () => {
    const hub = createHub({ maxDurationMs: 100_000 });
    const before = vi.getTimerCount();
    const connection = hub.connect({ scope: 'acme', sink: new RecordingSink(), expiresAt: Date.now() + 5_000 });
    expect(vi.getTimerCount()).toBe(before + 1);
    connection.dispose();
    expect(vi.getTimerCount()).toBe(before);
  });

  it('keeps one timer for many streams with distinct expiries, and closes each at its own time', () => {
    const hub = createHub({ maxDurationMs: 1_000_000 });
    const before = vi.getTimerCount();
    const sinks = Array.from({ length: 100 }, () => new RecordingSink());
    // Connected in an order unrelated to their expiries.
    const start = Date.now();
    const expiry = (i: number) => start + 10_000 + ((i * 37) % 100) * 100;
    const connections = sinks.map((sink, i) => hub.connect({ scope: 'acme', sink, expiresAt: expiry(i) }));
    expect(vi.getTimerCount()).toBe(before + 1);
    connections[5]!.dispose();
    for (let step = 0; step < 100; step++) {
      vi.advanceTimersByTime(step === 0 ? 10_000 : 100);
      const due = sinks.map((_, i) => i).filter((i) => i !== 5 && expiry(i) <= Date.now());
      expect(sinks.map((sink, i) => (sink.closed === 'unauthorized' ? i : -1)).filter((i) => i >= 0)).toEqual(due);
    }
    expect(sinks[5]!.closed).toBeNull();
    expect(hub.connectionCount).toBe(0);
    expect(vi.getTimerCount()).toBe(before);
  });

  it('refuses a non-positive maxDurationMs', () => {
    expect(() => createHub({ maxDurationMs: 0 })).toThrow(/maxDurationMs/);
  });
});
