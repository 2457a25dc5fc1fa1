import { describe, expect, it } from 'vitest';
import type { PublishRequest } from 'trpc-live/core';
import { ChannelFeed } from '../../../packages/trpc-live/src/redis/channelFeed.ts';
import { Delivery } from '../../../packages/trpc-live/src/redis/delivery.ts';
import { Joiner } from '../../../packages/trpc-live/src/redis/joiner.ts';
import { LocalFallback } from '../../../packages/trpc-live/src/redis/localFallback.ts';
import { ModeMachine } from '../../../packages/trpc-live/src/redis/modeMachine.ts';
import { OutageForwarding } from '../../../packages/trpc-live/src/redis/outageForwarding.ts';
import { TwinMarks } from '../../../packages/trpc-live/src/redis/twinMarks.ts';
import { waitFor } from '../../helpers/wait';

const request = (key: string): PublishRequest => ({
  scope: 'acme',
  topic: 'orders',
  lane: 'instant',
  key,
  signal: { kind: 'invalidate', resource: 'orders', action: 'changed' },
});

/**
 * The backend's real parts around a fake Redis link: `redis.epoch` is what the hello answers, `redis.fail`
 * makes the next hello throw. `events` records what the hub got (`gap:<reason>`, `d:<epoch>:<seq>`) and
 * what Redis was sent (`sent:<serial>`, `mark:<upTo>`).
 */
function backend() {
  const redis = { epoch: 'e1', fail: null as Error | null, ready: true, inFlight: 0 };
  const events: string[] = [];
  const mode = new ModeMachine({ now: () => 0, logger: null, onChange: () => undefined });
  const delivery = new Delivery();
  delivery.attach({ deliver: (entry) => events.push(`d:${entry.epoch}:${entry.seq}`), gap: (reason) => events.push(`gap:${reason}`) });
  const feed = new ChannelFeed({ channel: 'c', delivery, logger: null, onNewEpoch: () => undefined });
  const local = new LocalFallback({ origin: 'o1', delivery, replay: undefined, now: () => 0 });
  const twins = new TwinMarks({
    highestLocal: () => local.lastSerial,
    write: (upTo) => {
      events.push(`mark:${upTo}`);
      return Promise.resolve();
    },
    onUnreachable: (why) => mode.fall(why, local.epoch),
  });
  const forwarding = new OutageForwarding({
    maxForward: 100,
    beforeSend: () => twins.ensure(),
    send: ({ serial }) => {
      events.push(`sent:${serial}`);
      return Promise.resolve(null);
    },
    publishGap: () => Promise.resolve(),
    onUnreachable: (why) => mode.fall(why, local.epoch),
    onSent: () => undefined,
    logger: null,
  });
  const joiner = new Joiner({
    link: {
      get ready() {
        return redis.ready;
      },
      subscribes: true,
      subscribe: () => Promise.resolve(),
      hello: () => (redis.fail ? Promise.reject(redis.fail) : Promise.resolve(redis.epoch)),
    },
    mode,
    feed,
    delivery,
    local,
    twins,
    forwarding,
    inFlight: () => redis.inFlight,
    backoff: () => 5,
  });
  /** A publish made while local: delivered here and queued for forwarding, as the publisher does. */
  const publishLocally = (serial: number) => {
    forwarding.remember(request(`k${serial}`), serial);
    local.publish(request(`k${serial}`), serial);
  };
  return { redis, events, mode, feed, local, joiner, publishLocally };
}

describe('Joiner', () => {
  it('joins at startup and resets the clients once, since no subscription covered the time before', async () => {
    const { joiner, mode, feed, events } = backend();
    await joiner.join();
    expect([mode.mode, feed.epoch]).toEqual(['shared', 'e1']);
    expect(events).toEqual(['gap:gap']);
  });

  it('waits while a connection is not ready (its ready event calls join again)', async () => {
    const { joiner, mode, redis } = backend();
    redis.ready = false;
    await joiner.join();
    expect(mode.mode).toBe('connecting');
  });

  it('resets no one after a thaw that kept the subscription and delivered nothing locally', async () => {
    const { joiner, mode, local, events } = backend();
    await joiner.join();
    mode.fall('no answer from Redis for 400 ms', local.epoch);
    await joiner.join();
    expect(mode.mode).toBe('shared');
    expect(events).toEqual(['gap:gap']);
  });

  it('marks twins, forwards what was published locally in serial order, then rejoins with one reset and a fresh local epoch', async () => {
    const { joiner, mode, local, events, publishLocally } = backend();
    await joiner.join();
    mode.fall('ECONNRESET', local.epoch);
    const outageEpoch = local.epoch;
    publishLocally(1);
    publishLocally(2);
    events.length = 0;
    await joiner.join();
    expect(mode.mode).toBe('shared');
    expect(events).toEqual(['mark:2', 'sent:1', 'sent:2', 'gap:gap']);
    expect(local.epoch).not.toBe(outageEpoch);
  });

  it('resets after a lost subscription even when nothing was published, and once for a new epoch', async () => {
    const { joiner, mode, local, redis, events } = backend();
    await joiner.join();
    mode.fall('subscriber connection closed', local.epoch);
    joiner.subscriptionLost();
    redis.epoch = 'e2';
    events.length = 0;
    await joiner.join();
    expect(events).toEqual(['gap:gap']);
  });

  it('does not switch to shared while publishes sent before are unanswered, and retries', async () => {
    const { joiner, mode, local, redis } = backend();
    mode.fall('ECONNREFUSED', local.epoch);
    redis.inFlight = 1;
    await joiner.join();
    expect(mode.mode).toBe('local');
    redis.inFlight = 0;
    // The probe retries after backoff (5 ms here).
    await waitFor(() => mode.shared, 'shared after the probe', 2000);
    joiner.stop();
  });

  it('keeps the hello error for health and retries until Redis answers', async () => {
    const { joiner, mode, local, redis } = backend();
    mode.fall('ECONNREFUSED', local.epoch);
    redis.fail = new Error('LOADING Redis is loading the dataset in memory');
    await joiner.join();
    expect([mode.mode, mode.error]).toEqual(['local', 'LOADING Redis is loading the dataset in memory']);
    redis.fail = null;
    await waitFor(() => mode.shared, 'shared after the probe', 2000);
    expect([mode.mode, mode.error]).toEqual(['shared', null]);
    joiner.stop();
  });

  it('never joins once closed', async () => {
    const { joiner, mode } = backend();
    mode.close();
    await joiner.join();
    expect(mode.mode).toBe('closed');
  });
});
