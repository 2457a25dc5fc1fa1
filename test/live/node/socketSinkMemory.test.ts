import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Heartbeat, SocketSink } from 'trpc-live/node';

/** Heap after full GCs (vitest runs without --expose-gc). */
function heapUsed(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

const HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
  vary: 'trpc-accept, accept',
};

/** Heap per response kept after its head was built by `start`. */
function perResponse(start: (res: ServerResponse) => void): number {
  const COUNT = 5_000;
  const before = heapUsed();
  const kept: ServerResponse[] = [];
  for (let i = 0; i < COUNT; i++) {
    const res = new ServerResponse(new IncomingMessage(new Socket()));
    start(res);
    kept.push(res);
  }
  const per = (heapUsed() - before) / COUNT;
  expect(kept).toHaveLength(COUNT);
  return per;
}

describe('SocketSink memory', () => {
  it('keeps a stream response head flat, not as the rope of header lines node:http builds', () => {
    const heartbeat = new Heartbeat<SocketSink>(null);
    const host = { heartbeat, errorEvent: () => '' };
    const plain = perResponse((res) => res.writeHead(200, HEADERS));
    const sunk = perResponse((res) => new SocketSink(res, host).begin(HEADERS, ': hi\n\n', null));
    // The rope is ~0.9 KB; the flat head ~0.2 KB. The sink itself (with its abort signal) adds back less than the difference.
    expect(plain - sunk).toBeGreaterThan(300);
  });
});
