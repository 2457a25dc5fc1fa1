import superjson from 'superjson';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LiveMessage } from 'trpc-live/core';
import { connectSink, fakeHub } from './fixtures';

// Every stream's first frame is a hello; in a reconnect storm that is thousands of them, and serializing each one
// was a share of a reconnect's server CPU. The payload must still be the serializer's own bytes for that hello.
describe('hello payloads', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const superjsonText = (message: LiveMessage) => JSON.stringify(superjson.serialize(message));

  it('serializes the hello once per epoch when streams connect and resume, with the serializer\'s bytes for each', () => {
    const serialize = vi.fn(superjsonText);
    let n = 0;
    const { hub } = fakeHub({ serialize, newId: () => `c${++n}` });
    const fresh = [connectSink(hub), connectSink(hub)];
    const resumed = [connectSink(hub, { lastEventId: 'nope:1' }), connectSink(hub, { lastEventId: 'nope:1' })];
    const hellos = [...fresh, ...resumed].map(({ sink }) => sink.writes[0]![0]!);
    for (const hello of hellos) {
      expect(hello.message.kind).toBe('hello');
      expect(hello.payload).toBe(superjsonText(hello.message));
      expect(hello.bytes).toBe(hello.payload.length);
    }
    expect(new Set(hellos.map((hello) => hello.payload)).size).toBe(4);
    const helloCalls = serialize.mock.calls.filter(([message]) => message.kind === 'hello');
    expect(helloCalls).toHaveLength(1);
  });

  it('serializes each hello as before when the connection id is not plain text', () => {
    const serialize = vi.fn(superjsonText);
    let n = 0;
    const { hub } = fakeHub({ serialize, newId: () => `c "${++n}"` });
    const hellos = [connectSink(hub), connectSink(hub)].map(({ sink }) => sink.writes[0]![0]!);
    for (const hello of hellos) expect(hello.payload).toBe(superjsonText(hello.message));
    expect(serialize.mock.calls.filter(([message]) => message.kind === 'hello')).toHaveLength(2);
  });
});
