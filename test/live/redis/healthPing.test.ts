import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HealthPing } from '../../../packages/trpc-live/src/redis/healthPing.ts';
import { PublishDeadlines } from '../../../packages/trpc-live/src/redis/publishDeadlines.ts';

/**
 * A PING loop on fake timers against a scripted Redis: `redis.answer` says how each PING ends
 * (`'now'`: answered at once, `'never'`: frozen, or an Error). `falls` records every verdict.
 */
function pinging(shared = true) {
  const redis = { answer: 'now' as 'now' | 'never' | Error, pings: 0 };
  const falls: string[] = [];
  const now = () => Date.now();
  const deadlines = new PublishDeadlines({
    publishTimeoutMs: 80,
    unreachableAfterMs: 400,
    stallAfterMs: 200,
    now,
    watching: () => shared,
    onOverdue: () => undefined,
    onSilent: () => undefined,
  });
  const ping = new HealthPing({
    intervalMs: 100,
    unreachableAfterMs: 400,
    mode: { shared },
    deadlines,
    canPing: () => true,
    ping: () => {
      redis.pings++;
      if (redis.answer === 'now') return Promise.resolve();
      if (redis.answer === 'never') return new Promise<void>(() => undefined);
      return Promise.reject(redis.answer);
    },
    now,
    onUnreachable: (why) => falls.push(why),
  });
  ping.start();
  return { redis, falls, deadlines, ping };
}

describe('HealthPing', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('calls Redis unreachable once it answered nothing for 400 ms, with nothing published', async () => {
    const { redis, falls, ping } = pinging();
    redis.answer = 'never';
    await vi.advanceTimersByTimeAsync(100 + 399);
    expect(falls).toEqual([]);
    // The verdict waits two setImmediate hops (a poll phase) after its timer: fake timers run each hop 1 ms later.
    await vi.advanceTimersByTimeAsync(10);
    expect(falls).toEqual(['no answer from Redis for 400 ms']);
    // One PING outstanding at a time: a frozen Redis does not pile them up.
    expect(redis.pings).toBe(1);
    ping.stop();
  });

  it('never calls an answering Redis unreachable', async () => {
    const { redis, falls, ping } = pinging();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(falls).toEqual([]);
    expect(redis.pings).toBe(50);
    ping.stop();
  });

  it('does not call Redis unreachable while other answers keep coming (slow is not silent)', async () => {
    const { redis, falls, deadlines, ping } = pinging();
    redis.answer = 'never';
    for (let i = 0; i < 20; i++) {
      await vi.advanceTimersByTimeAsync(100);
      // A publish queued ahead of the PING was answered.
      deadlines.heard();
    }
    expect(falls).toEqual([]);
    ping.stop();
  });

  it('passes on a failed PING as the reason', async () => {
    const { redis, falls, ping } = pinging();
    redis.answer = new Error('Connection is closed.');
    await vi.advanceTimersByTimeAsync(100);
    expect(falls).toEqual(['Connection is closed.']);
    ping.stop();
  });

  it('sends no PING while not shared', async () => {
    const { redis, falls, ping } = pinging(false);
    await vi.advanceTimersByTimeAsync(1_000);
    expect([redis.pings, falls]).toEqual([0, []]);
    ping.stop();
  });
});
