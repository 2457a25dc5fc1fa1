import { describe, expect, it } from 'vitest';
import { WatchUnion, type LiveWatchRequest } from 'trpc-live/client';
import { watchKey, type WatchResponse } from '../../../packages/trpc-live/src/shared/watches';

const A = { path: 'orders.byId', input: { id: 'a' } };
const B = { path: 'orders.byId', input: { id: 'b' } };
const KEY_A = watchKey(A.path, A.input);
const KEY_B = watchKey(B.path, B.input);

/** A union on `conn-1` whose server answers with `answer` (default: every add accepted) and records each request. */
function unionWith(answer?: (request: LiveWatchRequest) => WatchResponse | Promise<WatchResponse>) {
  const requests: LiveWatchRequest[] = [];
  let connectionId = 'conn-1';
  const union = new WatchUnion({
    call: () => async (request) => {
      requests.push(request);
      return answer ? answer(request) : { cursor: 'e1:5', accepted: request.add.map((s) => watchKey(s.path, s.input)), refused: [] };
    },
    holder: 'browser',
    connectionId: () => connectionId,
    batchMs: () => 0,
  });
  const ask = (tab: string, add: LiveWatchRequest['add'], remove: string[] = [], connection = 'conn-1') =>
    union.submit(tab, { connectionId: connection, holder: tab, add, remove });
  return { union, requests, ask, moveTo: (id: string) => (connectionId = id) };
}

describe('WatchUnion (the watches of every tab, sent by the tab holding the stream)', () => {
  it('answers a tab that only drops a watch another tab holds at once, without a request', async () => {
    const { requests, ask } = unionWith();
    await Promise.all([ask('t1', [A]), ask('t2', [A])]);
    expect(requests).toHaveLength(1);
    await expect(ask('t2', [], [KEY_A])).resolves.toEqual({ cursor: '', accepted: [], refused: [] });
    expect(requests).toHaveLength(1);
    await ask('t1', [], [KEY_A]);
    expect(requests.at(-1)).toEqual({ connectionId: 'conn-1', holder: 'browser', add: [], remove: [KEY_A], deltas: true });
  });

  it('forgets the tabs whose add the server refused, so a later holder alone removes it', async () => {
    let refuse = true;
    const { union, requests, ask } = unionWith((request) =>
      refuse
        ? { cursor: 'e1:5', accepted: [], refused: [{ watch: KEY_A, code: 'full', message: 'full' }] }
        : { cursor: 'e1:6', accepted: request.add.map((s) => watchKey(s.path, s.input)), refused: [] },
    );
    const refused = await ask('t1', [A]);
    expect(refused.refused.map((r) => r.watch)).toEqual([KEY_A]);
    // t1 never sends a remove for a refused watch (WatchSync), so it must not count as holding it.
    expect(union.held().has(KEY_A)).toBe(false);
    refuse = false;
    await ask('t2', [A]);
    await ask('t2', [], [KEY_A]);
    expect(requests.at(-1)!.remove).toEqual([KEY_A]);
  });

  it('rejects the tabs of a failed request and sends its removes with the next one', async () => {
    let fail = false;
    const { requests, ask } = unionWith((request) => {
      if (fail) throw new Error('network');
      return { cursor: 'e1:5', accepted: request.add.map((s) => watchKey(s.path, s.input)), refused: [] };
    });
    await ask('t1', [A]);
    fail = true;
    await expect(ask('t1', [], [KEY_A])).rejects.toThrow('network');
    fail = false;
    await ask('t1', [B]);
    expect(requests.at(-1)).toMatchObject({ add: [B], remove: [KEY_A] });
  });

  it('starts empty on a new connection and refuses requests that name another one', async () => {
    const { union, requests, ask, moveTo } = unionWith();
    await ask('t1', [A]);
    moveTo('conn-2');
    // Never sent: the holding tab's stream runs on conn-2 now.
    await expect(ask('t1', [B], [], 'conn-1')).rejects.toThrow(/connection/);
    await expect(ask('t1', [B], [], 'conn-0')).rejects.toThrow('not the shared stream');
    expect(requests).toHaveLength(1);
    await ask('t2', [B], [], 'conn-2');
    expect([...union.held().keys()]).toEqual([KEY_B]);
    expect(requests.at(-1)).toMatchObject({ connectionId: 'conn-2', add: [B], remove: [] });
  });

  it('answers an add of a watch another tab holds without a request until a result of it was delivered, and again after a refetch order', async () => {
    const { union, requests, ask } = unionWith();
    await ask('t1', [A]);
    await expect(ask('t2', [A])).resolves.toEqual({ cursor: 'e1:5', accepted: [KEY_A], refused: [] });
    expect(requests).toHaveLength(1);
    union.observe({ kind: 'result', watch: KEY_A, epoch: 'e1', seq: 6, data: 1 });
    await ask('t3', [A]);
    expect(requests).toHaveLength(2);
    await ask('t4', [A]);
    expect(requests).toHaveLength(2);
    union.observe({ kind: 'delta', watch: KEY_A, epoch: 'e1', seq: 7, base: 6, ops: null });
    await ask('t4', [A]);
    expect(requests).toHaveLength(3);
    union.observe({ kind: 'refetch', watch: KEY_A, epoch: 'e1', seq: 8, reason: 'paused' });
    await ask('t5', [A]);
    expect(requests).toHaveLength(3);
    expect(union.stats.sharedAdds).toBe(3);
    expect(union.held()).toEqual(new Map([[KEY_A, 5]]));
  });

  it('names the tabs holding a watch (whom a pushed result goes to): from the submitted add, until its remove, a refusal or failure, the tab leaving, or a new connection', async () => {
    let fail = false;
    const { union, ask, moveTo } = unionWith((request) => {
      if (fail) throw new Error('network');
      return { cursor: 'e1:5', accepted: request.add.map((s) => watchKey(s.path, s.input)), refused: [] };
    });
    // Counted at once, before the server answers: a result may arrive before the answer does.
    const pending = ask('t1', [A]);
    expect([...union.holders(KEY_A)]).toEqual(['t1']);
    await pending;
    await ask('t2', [A, B]);
    expect([...union.holders(KEY_A)].sort()).toEqual(['t1', 't2']);
    expect([...union.holders(KEY_B)]).toEqual(['t2']);
    await ask('t1', [], [KEY_A]);
    expect([...union.holders(KEY_A)]).toEqual(['t2']);
    union.dropTab('t2');
    expect(union.holders(KEY_A).size + union.holders(KEY_B).size).toBe(0);
    fail = true;
    await expect(ask('t3', [A])).rejects.toThrow('network');
    expect(union.holders(KEY_A).size).toBe(0);
    fail = false;
    await ask('t3', [A]);
    expect([...union.holders(KEY_A)]).toEqual(['t3']);
    moveTo('conn-2');
    await ask('t4', [B], [], 'conn-2');
    expect(union.holders(KEY_A).size).toBe(0);
    expect([...union.holders(KEY_B)]).toEqual(['t4']);
  });

  it('sends one request for the tabs that submit in one window, each watch once', async () => {
    const { union, requests, ask } = unionWith();
    const answers = await Promise.all([ask('t1', [A]), ask('t2', [A, B]), ask('t3', [B])]);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.add).toEqual([A, B]);
    for (const answer of answers) expect(answer.accepted).toEqual([KEY_A, KEY_B]);
    expect(union.held()).toEqual(new Map([[KEY_A, 2], [KEY_B, 2]]));
    union.dropTab('t2');
    union.dropTab('t3');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(requests.at(-1)).toMatchObject({ add: [], remove: [KEY_B] });
  });
});
