import { describe, expect, it } from 'vitest';
import type { PublishRequest } from 'trpc-live/core';
import { OutageForwarding, type Forward } from '../../../packages/trpc-live/src/redis/outageForwarding.ts';

const request = (key: string | null, scope = 'acme'): PublishRequest => ({
  scope,
  topic: 'orders',
  lane: 'instant',
  key,
  signal: { kind: 'invalidate', resource: 'orders', action: 'changed' },
});

/** What ioredis rejects with when Redis refuses a command. */
function replyError(): Error {
  const error = new Error('OOM command not allowed');
  error.name = 'ReplyError';
  return error;
}

/** A queue whose Redis sends, refuses (`refuse`) or loses the connection on (`lose`) each serial; `log` records the rest. */
function forwarding(options: { maxForward?: number; refuse?: number[]; lose?: number[]; beforeSend?: () => Promise<boolean> } = {}) {
  const sent: number[] = [];
  const log: string[] = [];
  const queue = new OutageForwarding({
    maxForward: options.maxForward ?? 100,
    beforeSend: options.beforeSend ?? (() => Promise.resolve(true)),
    send: ({ serial }: Forward) => {
      if (options.refuse?.includes(serial)) return Promise.reject(replyError());
      if (options.lose?.includes(serial)) return Promise.reject(new Error('Connection is closed.'));
      sent.push(serial);
      return Promise.resolve(null);
    },
    publishGap: () => {
      log.push('gap');
      return Promise.resolve();
    },
    onUnreachable: (why) => log.push(`unreachable: ${why}`),
    onSent: () => log.push('sent'),
    logger: { warn: (line) => log.push(`warn: ${line}`) },
  });
  return { queue, sent, log };
}

describe('OutageForwarding', () => {
  it('sends the latest publish per key and every unique signal, in serial order', async () => {
    const { queue, sent, log } = forwarding();
    queue.remember(request('orders:1'), 1);
    queue.remember(request(null), 2);
    queue.remember(request('orders:2'), 3);
    queue.remember(request('orders:1'), 4);
    queue.remember(request(null), 5);
    queue.remember(request('orders:1', 'other'), 6);
    expect(queue.size).toBe(5);
    expect(await queue.flush()).toBe(true);
    expect(sent).toEqual([2, 3, 4, 5, 6]);
    expect(log).toEqual(['sent']);
    expect(queue.size).toBe(0);
  });

  it('drops the oldest past maxForward and makes every instance reset once the rest is sent', async () => {
    const { queue, sent, log } = forwarding({ maxForward: 3 });
    for (let serial = 1; serial <= 5; serial++) queue.remember(request(`k${serial}`), serial);
    expect(queue.size).toBe(3);
    expect(await queue.flush()).toBe(true);
    expect(sent).toEqual([3, 4, 5]);
    expect(log).toEqual(['gap', 'sent']);
    // The reset was sent: the next flush has nothing to say.
    expect(await queue.flush()).toBe(true);
    expect(log).toEqual(['gap', 'sent']);
  });

  it('keeps what failed and what was not sent yet when Redis goes away mid-queue', async () => {
    const lost = [3];
    const { queue, sent, log } = forwarding({ lose: lost, maxForward: 1000 });
    for (let serial = 1; serial <= 600; serial++) queue.remember(request(`k${serial}`), serial);
    expect(await queue.flush()).toBe(false);
    // The first chunk of 256 went out but serial 3; 3 and the chunks after it stay queued, and go out in order next time.
    expect(sent).toEqual(Array.from({ length: 256 }, (_, i) => i + 1).filter((s) => s !== 3));
    expect(queue.size).toBe(1 + (600 - 256));
    expect(log).toEqual(['unreachable: Connection is closed.']);
    lost.length = 0;
    expect(await queue.flush()).toBe(true);
    expect(sent.slice(255)).toEqual([3, ...Array.from({ length: 600 - 256 }, (_, i) => i + 257)]);
  });

  it('sends what failed before a publish made meanwhile, in serial order, on the next recovery', async () => {
    const sent: number[] = [];
    let down = true;
    const queue: OutageForwarding = new OutageForwarding({
      maxForward: 100,
      beforeSend: () => Promise.resolve(true),
      send: ({ serial }) => {
        if (serial === 2 && down) {
          // Published while the forward is in flight (the backend is still local), queued before 2 is requeued.
          queue.remember(request('k3'), 3);
          return Promise.reject(new Error('Connection is closed.'));
        }
        sent.push(serial);
        return Promise.resolve(null);
      },
      publishGap: () => Promise.resolve(),
      onUnreachable: () => undefined,
      onSent: () => undefined,
      logger: null,
    });
    queue.remember(request('k1'), 1);
    queue.remember(request('k2'), 2);
    expect(await queue.flush()).toBe(false);
    down = false;
    expect(await queue.flush()).toBe(true);
    expect(sent).toEqual([1, 2, 3]);
  });

  it('drops a signal Redis refused, with a warning, and sends the rest', async () => {
    const { queue, sent, log } = forwarding({ refuse: [2] });
    for (let serial = 1; serial <= 3; serial++) queue.remember(request(`k${serial}`), serial);
    expect(await queue.flush()).toBe(true);
    expect(sent).toEqual([1, 3]);
    expect(log).toEqual(['warn: [live:redis] dropped a forwarded signal Redis refused: OOM command not allowed', 'sent']);
    expect(queue.size).toBe(0);
  });

  it('sends nothing until the local copies are marked as possible twins', async () => {
    const { queue, sent } = forwarding({ beforeSend: () => Promise.resolve(false) });
    queue.remember(request('k'), 1);
    expect(await queue.flush()).toBe(false);
    expect(sent).toEqual([]);
    expect(queue.size).toBe(1);
  });
});
