import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { assertPattern, LiveError, matchTopic, type Hub } from 'trpc-live/core';
import { assertTopic } from '../../../packages/trpc-live/src/shared/topic';
import { TopicIndex } from '../../../packages/trpc-live/src/core/topicIndex';
import { connectSink, endOfTick, fakeHub } from './fixtures';

describe('topics: NATS-style wildcards', () => {
  it.each([
    ['orders', 'orders', true],
    ['orders', 'orders.1', false],
    ['orders.*', 'orders.1', true],
    ['orders.*', 'orders', false],
    ['orders.*', 'orders.1.items', false],
    ['*.1', 'orders.1', true],
    ['*.*', 'orders.1', true],
    ['orders.>', 'orders.1', true],
    ['orders.>', 'orders.1.items', true],
    ['orders.>', 'orders', false], // '>' needs at least one token
    ['>', 'orders', true],
    ['>', 'orders.1.items', true],
    ['*.>', 'orders', false],
    ['*.>', 'orders.1', true],
    ['orders.*.items', 'orders.1.items', true],
    ['orders.*.items', 'orders.1.lines', false],
  ])('matches pattern %s against topic %s: %s', (pattern, topic, expected) => {
    expect(matchTopic(pattern, topic)).toBe(expected);
    const index = new TopicIndex<string>();
    index.add(pattern, 'sub');
    const seen: string[] = [];
    index.match(topic, (s) => seen.push(s));
    expect(seen.length > 0).toBe(expected);
  });

  it.each([
    ['orders.>.items', /">" is only allowed as the last token/],
    ['a..b', /token 2 is empty/],
    ['.a', /token 1 is empty/],
    ['a.', /token 2 is empty/],
    ['ord*', /token 1 "ord\*" mixes a wildcard with other characters/],
    ['a.b>', /token 2 "b>" mixes a wildcard/],
    ['a b', /token 1 "a b" has characters outside/],
    ['', /must be a non-empty string/],
    ['x'.repeat(201), /limited to 200 characters/],
    [Array.from({ length: 17 }, () => 'a').join('.'), /limited to 16 tokens/],
  ])('refuses the pattern %j with a clear BAD_TOPIC error', (pattern, message) => {
    const error = (() => {
      try {
        assertPattern(pattern);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(LiveError);
    expect((error as LiveError).code).toBe('BAD_TOPIC');
    expect((error as LiveError).message).toMatch(message);
  });

  it('refuses wildcards in a concrete topic', () => {
    expect(() => assertTopic('orders.*')).toThrowError(/contains the wildcard "\*"; wildcards are only for subscriptions/);
    expect(() => assertTopic('orders.>')).toThrowError(/wildcards are only for subscriptions/);
    expect(assertTopic('orders.ord_1')).toEqual(['orders', 'ord_1']);
  });

  it('removes subscriptions and prunes empty branches', () => {
    const index = new TopicIndex<string>();
    index.add('orders.>', 'a');
    index.add('orders.*', 'b');
    index.add('orders.*', 'b'); // idempotent
    expect(index.size).toBe(2);
    index.remove('orders.>', 'a');
    index.remove('orders.*', 'b');
    index.remove('never.added', 'c');
    expect(index.size).toBe(0);
    const seen: string[] = [];
    index.match('orders.1', (s) => seen.push(s));
    expect(seen).toEqual([]);
  });

  describe('routing in the hub', () => {
    let hub: Hub;
    beforeEach(() => {
      vi.useFakeTimers();
      ({ hub } = fakeHub());
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('delivers once to a connection whose several patterns match the same topic', async () => {
      const { sink } = connectSink(hub, { topics: ['orders.>', 'orders.*', '*.created'] });
      await hub.signal('acme', 'orders.created');
      endOfTick();
      expect(sink.data).toHaveLength(1);
    });

    it('never visits connections that do not match: other tenants and other topics cost nothing', async () => {
      const matching = connectSink(hub, { topics: ['orders.*'] });
      const others = [];
      for (let i = 0; i < 2000; i++) others.push(connectSink(hub, { scope: `tenant-${i}` }).connection);
      for (let i = 0; i < 2000; i++) others.push(connectSink(hub, { topics: [`stock.${i}`, 'products.>'] }).connection);
      // Every connection the trie hands to routing during the publish; a scan would hand over all of them.
      const visited = new Set<unknown>();
      const match = TopicIndex.prototype.match;
      vi.spyOn(TopicIndex.prototype, 'match').mockImplementation(function (this: TopicIndex<unknown>, topic, visit) {
        match.call(this, topic, (item) => {
          visited.add(item);
          visit(item);
        });
      });
      await hub.signal('acme', 'orders.created');
      endOfTick();
      vi.restoreAllMocks();
      expect(matching.sink.data).toHaveLength(1);
      expect([...visited]).toEqual([matching.connection]);
      expect(others.filter((c) => visited.has(c))).toEqual([]);
    });

    it('refuses a connection with an invalid pattern and registers nothing', () => {
      expect(() => connectSink(hub, { topics: ['orders', 'a..b'] })).toThrowError(/Pattern "a..b": token 2 is empty/);
      expect(hub.connectionCount).toBe(0);
      expect(hub.stats().scopes).toBe(0);
    });

    it('refuses more than 32 patterns per connection', () => {
      const topics = Array.from({ length: 33 }, (_, i) => `t${i}`);
      expect(() => connectSink(hub, { topics })).toThrowError(/At most 32 topic patterns/);
    });
  });
});
