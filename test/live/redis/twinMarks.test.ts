import { describe, expect, it } from 'vitest';
import { TwinMarks } from '../../../packages/trpc-live/src/redis/twinMarks.ts';

/** Marks over a settable highest local serial; `writes` lists what reached Redis, `fail` makes the next writes throw. */
function marks() {
  const state = { highest: 0, fail: false, writes: [] as number[], unreachable: [] as string[], onWrite: () => undefined as void };
  const twins = new TwinMarks({
    highestLocal: () => state.highest,
    write: (upTo) => {
      if (state.fail) return Promise.reject(new Error('Connection is closed.'));
      state.writes.push(upTo);
      state.onWrite();
      return Promise.resolve();
    },
    onUnreachable: (why) => state.unreachable.push(why),
  });
  return { twins, state };
}

describe('TwinMarks', () => {
  it('writes one mark, with the highest serial, for every local copy made in one turn', async () => {
    const { twins, state } = marks();
    for (let serial = 1; serial <= 1000; serial++) {
      state.highest = serial;
      twins.queue();
    }
    expect(state.writes).toEqual([]);
    await Promise.resolve();
    expect(state.writes).toEqual([1000]);
    await Promise.resolve();
    expect(twins.pending).toBe(false);
  });

  it('marks again until the mark covers copies made while it was written', async () => {
    const { twins, state } = marks();
    state.highest = 5;
    let raised = false;
    state.onWrite = () => {
      if (raised) return;
      raised = true;
      state.highest = 9;
    };
    expect(twins.pending).toBe(true);
    expect(await twins.ensure()).toBe(true);
    expect(state.writes).toEqual([5, 9]);
    expect(twins.pending).toBe(false);
    expect(await twins.ensure()).toBe(true);
    expect(state.writes).toEqual([5, 9]);
  });

  it('reports Redis unreachable and answers false when the mark fails, and stays pending', async () => {
    const { twins, state } = marks();
    state.highest = 3;
    state.fail = true;
    expect(await twins.ensure()).toBe(false);
    expect(state.unreachable).toEqual(['Connection is closed.']);
    expect(twins.pending).toBe(true);
    // A queued mark that fails is silent: the next join marks again before forwarding.
    twins.queue();
    await new Promise((resolve) => setImmediate(resolve));
    expect(state.unreachable).toEqual(['Connection is closed.']);
  });
});
