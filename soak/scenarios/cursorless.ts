import { createClientPool } from '../lib/clientPool';
import type { TappedEntry } from '../lib/oracle';
import type { StreamSpec } from '../lib/protocol';
import { quietLog, until, type Check, type Log, type ScenarioResult } from '../lib/scenario';
import { startSoakServer } from '../lib/server';
import { sessionCookie } from '../lib/sessions';

/** Parameters of the cursorless-reconnect check. */
export interface CursorlessParams {
  /** Streams per case (all cut at once). */
  readonly streams: number;
}

export const full: CursorlessParams = { streams: 50 };
export const ci: CursorlessParams = { streams: 10 };

const TENANT = 'cursorless-t';

/**
 * Found by the chaos scenario: a stream that is cut after its `hello` but
 * before its first signal holds no cursor (the hello is a control frame
 * without an SSE id), so `httpSubscriptionLink` reconnects without
 * `lastEventId`; the server sees a new stream, replays nothing and sends no
 * reset, and whatever was published while it was away is silently missed.
 *
 * Two cases side by side, on the same server: streams cut before any signal
 * (the gap) and streams cut after one signal (they hold a cursor: replay).
 * Each case: open, cut every socket (TCP reset), wait until the server freed
 * them, publish one invalidation, reconnect each with its cursor (if any),
 * publish a marker, and run the coverage oracle over both signals.
 */
export async function run(params: CursorlessParams = full, log: Log = quietLog): Promise<ScenarioResult> {
  const started = Date.now();
  const server = await startSoakServer();
  const pool = await createClientPool({ url: server.url, processes: 1 });
  try {
    const cookie = await sessionCookie({ tenantId: TENANT, userId: 'u1', role: 'staff' });
    const view = { scope: TENANT, groups: { user: 'u1', role: 'staff' } };
    const runCase = async (name: string, firstKey: number, primed: boolean) => {
      const specs: StreamSpec[] = Array.from({ length: params.streams }, (_, i) => ({ key: firstKey + i, cookie, view }));
      const keys = specs.map((s) => s.key);
      await pool.open(specs);
      if (primed) {
        await server.publish([{ scope: TENANT, signal: { kind: 'invalidate', resource: 'prime', id: name, action: 'changed' } }]);
        await until(
          async () => {
            const counts = await pool.counts();
            return keys.every((k) => (counts.get(k)?.data ?? 0) > 0);
          },
          'the priming signal',
          10_000,
          20,
        );
      }
      await server.tapStart();
      await pool.cut(keys);
      await until(async () => (await server.gauge()) === 0, 'the server to free the cut streams', 10_000, 20);
      const [missedSeq] = await server.publish([
        { scope: TENANT, signal: { kind: 'invalidate', resource: 'orders', id: `${name}-while-away`, action: 'updated' } },
      ]);
      await pool.reconnect(keys);
      await pool.waitConnected(10_000);
      const [markerSeq] = await server.publish([
        { scope: TENANT, signal: { kind: 'invalidate', resource: 'orders', id: `${name}-marker`, action: 'updated' } },
      ]);
      const entries: TappedEntry[] = await server.tapTake(true);
      // Wait for the marker (published after the reconnect) before judging the signal published while away.
      const marker = entries.filter((e) => e.seq === markerSeq);
      await until(async () => (await pool.verify(marker, 0, keys)).gaps === 0, 'every stream to get the marker', 10_000, 20);
      const verify = await pool.verify(entries, 0, keys);
      await pool.close('rst', keys);
      await until(async () => (await server.gauge()) === 0, 'the streams to close', 10_000, 20);
      log(`cursorless: ${name}: ${verify.gaps} of ${params.streams} streams missed seq ${missedSeq}`);
      return { missedSeq, markerSeq, gaps: verify.gaps, samples: verify.samples };
    };
    const cursorless = await runCase('no-cursor', 0, false);
    const withCursor = await runCase('with-cursor', 10_000, true);
    const stats = await pool.stats();
    const checks: Check[] = [
      {
        name: 'streams cut after their first signal resume by replay',
        pass: withCursor.gaps === 0,
        value: `${withCursor.gaps} of ${params.streams} missed the signal published while they were away`,
        target: '0',
      },
      {
        name: 'streams cut before their first signal (no cursor yet) miss nothing',
        pass: cursorless.gaps === 0,
        value:
          cursorless.gaps === 0
            ? `0 of ${params.streams} missed it`
            : `${cursorless.gaps} of ${params.streams} silently missed the signal published while they were away (no replay, no reset)`,
        target: '0 (replay or reset)',
      },
    ];
    return {
      name: 'cursorless',
      title: 'Reconnect before the first signal',
      params: { ...params },
      summary:
        `${params.streams} streams cut after their hello but before any signal reconnect without a cursor: ${cursorless.gaps} silently ` +
        `missed the signal published while they were away (no replay, no reset); the same streams cut after one signal: ` +
        `${withCursor.gaps} missed (replayed)`,
      checks,
      figures: { cursorless, withCursor, resets: stats.resets, resetReasons: stats.resetReasons },
      method: [
        'Found by the chaos scenario. The `hello` that opens a stream is a control frame without an SSE id, so a client that is ' +
          'cut before its first signal holds no cursor; `httpSubscriptionLink` then reconnects without `lastEventId` (as the ' +
          'raw clients here do), the hub treats it as a new stream (no replay, no reset), and what was published while it was ' +
          'away is lost without a trace. Each case: open, reset every socket, wait until the gauge reads 0, publish one ' +
          'invalidation, reconnect each stream with its cursor (if any), publish a marker, wait for the marker, run the oracle.',
        'Possible fixes: the hub gives a cursorless stream a cursor with its hello (`epoch:head` at registration; a wire change ' +
          'many tests pin), or the client treats a reconnect hello without a cursor as a `reset` (as the shared stream already ' +
          'does on a takeover without a cursor).',
      ],
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await pool.shutdown();
    await server.stop();
  }
}
