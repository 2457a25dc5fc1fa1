import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PauseControl } from '../../../packages/trpc-live/src/react/pauseControl.ts';

/** A PauseControl over a flag the test flips for "some tab is visible", recording what the server is told. */
function setup({ afterMs = 3000, withSetPaused = true } = {}) {
  const calls: Array<[string, boolean]> = [];
  const state = { anyVisible: true, delayedPauses: 0 };
  const control = new PauseControl(
    withSetPaused ? (id, paused) => void calls.push([id, paused]) : undefined,
    afterMs,
    () => state.anyVisible,
    () => void state.delayedPauses++,
  );
  /** Every tab hidden (or one shown), then the control re-evaluates, as the holder does on visibilitychange. */
  const everyTabHidden = (hidden: boolean) => {
    state.anyVisible = !hidden;
    control.update();
  };
  return { control, calls, state, everyTabHidden };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('PauseControl (when the tab holding the stream pauses it on the server)', () => {
  it('pauses once every tab has been hidden for afterMs and resumes at once when one is shown', async () => {
    const { control, calls, state, everyTabHidden } = setup({ afterMs: 3000 });
    control.connected('conn-1');
    everyTabHidden(true);
    await vi.advanceTimersByTimeAsync(2999);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([['conn-1', true]]);
    expect(control.paused).toBe(true);
    expect(state.delayedPauses).toBe(1);

    everyTabHidden(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([
      ['conn-1', true],
      ['conn-1', false],
    ]);
    expect(control.paused).toBe(false);
  });

  it('tells the server nothing when a tab is shown again before afterMs (a switch between tabs)', async () => {
    const { control, calls, everyTabHidden } = setup({ afterMs: 3000 });
    control.connected('conn-1');
    everyTabHidden(true);
    await vi.advanceTimersByTimeAsync(2999);
    everyTabHidden(false);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual([]);
  });

  it('keeps one pending pause when the tabs change while all stay hidden', async () => {
    const { control, calls, everyTabHidden } = setup({ afterMs: 3000 });
    control.connected('conn-1');
    everyTabHidden(true);
    await vi.advanceTimersByTimeAsync(2000);
    everyTabHidden(true); // another hidden tab joined: the wait does not start over
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toEqual([['conn-1', true]]);
  });

  it('pauses at once when afterMs is 0, without a delayed-pause callback', async () => {
    const { control, calls, state, everyTabHidden } = setup({ afterMs: 0 });
    control.connected('conn-1');
    everyTabHidden(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([['conn-1', true]]);
    expect(state.delayedPauses).toBe(0);
  });

  it('pauses nothing before the stream said hello, since there is no connection to name', async () => {
    const { calls, everyTabHidden } = setup({ afterMs: 0 });
    everyTabHidden(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toEqual([]);
  });

  it('pauses a new connection again after a reconnect while every tab is still hidden', async () => {
    const { control, calls, everyTabHidden } = setup({ afterMs: 0 });
    control.connected('conn-1');
    everyTabHidden(true);
    // The transport reconnected: the server starts the new connection unpaused.
    control.connected('conn-2');
    expect(control.paused).toBe(false);
    control.update();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([
      ['conn-1', true],
      ['conn-2', true],
    ]);
  });

  it('never shows a pause without setPaused', async () => {
    const { control, everyTabHidden } = setup({ afterMs: 0, withSetPaused: false });
    control.connected('conn-1');
    everyTabHidden(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(control.paused).toBe(false);
  });

  it('drops a pending pause when cancelled (the stream closed)', async () => {
    const { control, calls, state, everyTabHidden } = setup({ afterMs: 3000 });
    control.connected('conn-1');
    everyTabHidden(true);
    control.cancel();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toEqual([]);
    expect(state.delayedPauses).toBe(0);
  });

  it('survives a setPaused that throws or rejects (the connection closed meanwhile)', async () => {
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const control = new PauseControl(() => Promise.reject(new Error('NOT_FOUND')), 0, () => false, () => undefined);
      control.connected('conn-1');
      control.update();
      const throwing = new PauseControl(() => { throw new Error('gone'); }, 0, () => false, () => undefined);
      throwing.connected('conn-2');
      throwing.update();
      await vi.advanceTimersByTimeAsync(0);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).not.toHaveBeenCalled();
      expect(control.paused).toBe(true);
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});
