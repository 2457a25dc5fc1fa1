import { afterEach, describe, expect, it, vi } from 'vitest';
import { ModeMachine } from '../../../packages/trpc-live/src/redis/modeMachine.ts';

/** A machine on a hand-driven clock that records its log lines and change reports. */
function machine() {
  let t = 1_000;
  const lines: string[] = [];
  const changes: string[] = [];
  const mode: ModeMachine = new ModeMachine({
    now: () => t,
    logger: { info: (line: string) => lines.push(`info ${line}`), warn: (line: string) => lines.push(`warn ${line}`) },
    onChange: () => changes.push(mode.mode),
  });
  return { mode, lines, changes, advance: (ms: number) => (t += ms) };
}

describe('ModeMachine', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts connecting, and falls to local with one startup line when Redis cannot be reached', () => {
    const { mode, lines, changes, advance } = machine();
    expect([mode.mode, mode.since, mode.error, mode.outages]).toEqual(['connecting', 1_000, null, 0]);
    advance(50);
    expect(mode.fall('ECONNREFUSED', 'o1-1')).toBe(true);
    expect([mode.mode, mode.since, mode.error, mode.outages]).toEqual(['local', 1_050, 'ECONNREFUSED', 0]);
    expect(lines).toEqual(['warn [live:redis] cannot reach Redis at startup (ECONNREFUSED): delivering locally meanwhile; retrying']);
    expect(changes).toEqual(['local']);
  });

  it('counts an outage and names the local epoch when it falls from shared, and logs nothing more while local', () => {
    const { mode, lines, changes, advance } = machine();
    mode.join('e1');
    advance(100);
    mode.fall('no answer from Redis for 400 ms', 'o1-2');
    advance(100);
    mode.fall('ECONNREFUSED', 'o1-2');
    expect([mode.mode, mode.since, mode.outages, mode.error]).toEqual(['local', 1_100, 1, 'ECONNREFUSED']);
    expect(lines).toEqual([
      'info [live:redis] connected: shared epoch e1',
      "warn [live:redis] Redis unreachable (no answer from Redis for 400 ms): delivering to this instance's clients only, under local epoch o1-2; retrying",
    ]);
    expect(changes).toEqual(['shared', 'local']);
  });

  it('tells a rejoin after an outage from a first join, and clears the error', () => {
    const { mode, lines } = machine();
    expect(mode.join('e1')).toBe(false);
    mode.fall('ECONNRESET', 'o1-2');
    expect(mode.join('e2')).toBe(true);
    expect([mode.mode, mode.error]).toEqual(['shared', null]);
    expect(lines.at(-1)).toBe('warn [live:redis] Redis is back: shared epoch e2; resetting clients');
  });

  it('keeps a connection error for health without logging or changing mode', () => {
    const { mode, lines, changes } = machine();
    mode.fall('ECONNREFUSED', 'o1-1');
    mode.noteError('connect ETIMEDOUT');
    expect(mode.health(null)).toEqual({
      ok: false,
      detail: `redis: unreachable since ${new Date(1_000).toISOString()} (connect ETIMEDOUT); delivering to local clients only, retrying`,
    });
    expect(lines).toHaveLength(1);
    expect(changes).toEqual(['local']);
  });

  it('stays closed whatever happens after close, and reports the close once', () => {
    const { mode, changes } = machine();
    mode.join('e1');
    expect(mode.close()).toBe(true);
    expect(mode.close()).toBe(false);
    expect(mode.fall('ECONNRESET', 'o1-2')).toBe(false);
    expect(mode.join('e2')).toBe(false);
    expect(mode.mode).toBe('closed');
    expect(mode.health('e1')).toEqual({ ok: false, detail: 'redis: closed' });
    expect(changes).toEqual(['shared', 'closed']);
  });

  it('answers health for each mode', () => {
    const { mode } = machine();
    expect(mode.health(null)).toEqual({ ok: false, detail: 'redis: connecting; delivering to local clients until joined' });
    mode.join('e7');
    expect(mode.health('e7')).toEqual({ ok: true, detail: 'redis: shared epoch e7' });
  });

  it('resolves ready waiters true on a join, false on a close, and false at their timeout', async () => {
    vi.useFakeTimers();
    const first = machine().mode;
    const joined = first.ready(1_000);
    first.join('e1');
    await expect(joined).resolves.toBe(true);
    await expect(first.ready(1_000)).resolves.toBe(true);

    const second = machine().mode;
    const closed = second.ready(1_000);
    second.close();
    await expect(closed).resolves.toBe(false);
    await expect(second.ready(1_000)).resolves.toBe(false);

    const third = machine().mode;
    const timedOut = third.ready(1_000);
    vi.advanceTimersByTime(999);
    let settled = false;
    void timedOut.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    vi.advanceTimersByTime(1);
    await expect(timedOut).resolves.toBe(false);
    // A join after the timeout does not call the expired waiter again (nothing to observe but no throw).
    third.join('e1');
  });
});
