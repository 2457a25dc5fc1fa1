import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createHub, systemTimers } from 'trpc-live/core';
import { RecordingSink } from '../../helpers/sink';

// Found by the churn soak (RELIABILITY.md, scenario 1): every stream opened and closed left ~150 B on the server's heap
// until its session would have expired (hours). Node keeps the timer list of an unref'd timeout's delay when that
// timeout is cleared early (it deletes only the lists of ref'd ones), and the hub's lifetime timer of each stream has
// its own delay (the credential's expiry minus now, in ms), so every connection left one list behind.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const heapUsed = () => {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
};

describe('hub timers on the runtime clock (systemTimers)', () => {
  it('frees the runtime timer list of a timer cleared before it fires (one list per distinct delay leaked)', () => {
    const n = 20_000;
    // Warm up the code paths and V8's structures first.
    for (let i = 0; i < 1000; i++) systemTimers.clearTimeout(systemTimers.setTimeout(() => undefined, 7_200_000 + i));
    const before = heapUsed();
    for (let i = 0; i < n; i++) systemTimers.clearTimeout(systemTimers.setTimeout(() => undefined, 3_600_000 + i));
    const perTimer = (heapUsed() - before) / n;
    // ~150 B per timer when the lists stayed; a few bytes of noise otherwise.
    expect(perTimer).toBeLessThan(40);
  });

  it('does not grow the heap per stream closed before its credential expired', () => {
    const hub = createHub();
    const n = 20_000;
    const open = (i: number) => hub.connect({ scope: 'acme', sink: new RecordingSink(), expiresAt: Date.now() + 3_600_000 + i }).dispose();
    for (let i = 0; i < 1000; i++) open(i);
    const before = heapUsed();
    for (let i = 0; i < n; i++) open(1000 + i);
    const perStream = (heapUsed() - before) / n;
    expect(hub.connectionCount).toBe(0);
    expect(perStream).toBeLessThan(40);
  });
});
