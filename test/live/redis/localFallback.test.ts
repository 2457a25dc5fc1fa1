import { describe, expect, it } from 'vitest';
import type { PublishRequest } from 'trpc-live/core';
import { Delivery } from '../../../packages/trpc-live/src/redis/delivery.ts';
import { LocalFallback, localEpochOrigin } from '../../../packages/trpc-live/src/redis/localFallback.ts';

const request = (key: string): PublishRequest => ({
  scope: 'acme',
  topic: 'orders',
  lane: 'instant',
  key,
  signal: { kind: 'invalidate', resource: 'orders', action: 'changed' },
});

function fallback() {
  const delivered: string[] = [];
  const delivery = new Delivery();
  delivery.attach({ deliver: (entry) => delivered.push(`${entry.epoch}:${entry.seq}:${entry.key}`), gap: () => undefined });
  const local = new LocalFallback({ origin: 'k3x9', delivery, replay: undefined, now: () => 0 });
  return { local, delivered };
}

describe('LocalFallback', () => {
  it('names its histories <origin>-<n>, which any instance can read the origin back from', () => {
    const { local } = fallback();
    expect(local.epoch).toBe('k3x9-1');
    local.renew();
    expect(local.epoch).toBe('k3x9-2');
    expect(localEpochOrigin(local.epoch)).toBe('k3x9');
    // Shared epochs (newEpoch strings) have no '-': not a local history.
    expect(localEpochOrigin('m4k2abc9')).toBeUndefined();
    expect(localEpochOrigin('k3x9-')).toBeUndefined();
  });

  it('delivers each publish under its serial as seq, keeps it for replay, and remembers the highest serial', () => {
    const { local, delivered } = fallback();
    local.publish(request('a'), 4);
    local.publish(request('b'), 7);
    expect(delivered).toEqual(['k3x9-1:4:a', 'k3x9-1:7:b']);
    const replayed = expect.objectContaining({ seq: 7, key: 'b', origin: 'k3x9', serial: 7 });
    expect(local.since('acme', 'k3x9-1', 4)).toEqual({ ok: true, entries: [replayed] });
    expect([local.publishes, local.lastSerial]).toEqual([2, 7]);
  });

  it('tells once whether anything was delivered locally since the last join', () => {
    const { local } = fallback();
    expect(local.takeDelivered()).toBe(false);
    local.publish(request('a'), 1);
    expect(local.takeDelivered()).toBe(true);
    expect(local.takeDelivered()).toBe(false);
  });

  it('gives a receipt at the position publish would give, without delivering', () => {
    const { local, delivered } = fallback();
    expect(local.receipt(request('a'), 9)).toMatchObject({ epoch: 'k3x9-1', seq: 9, key: 'a', origin: 'k3x9', serial: 9 });
    expect(delivered).toEqual([]);
    expect(local.publishes).toBe(0);
  });
});
