import { createClientPool } from '../lib/clientPool';
import type { StreamSpec } from '../lib/protocol';
import { int, quietLog, recordCheck, until, type Check, type Log, type ScenarioResult } from '../lib/scenario';
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
 * A regression check for a gap the chaos scenario found: a stream cut after
 * its `hello` but before its first signal held no cursor (the hello was a
 * control frame without an SSE id), so `httpSubscriptionLink` reconnected
 * without `lastEventId`; the server saw a new stream, replayed nothing and
 * sent no reset, and what was published while it was away was silently
 * missed. A fresh stream's hello now carries the head as its starting cursor.
 *
 * Two cases side by side, on the same server: streams cut before any signal
 * (the case that was broken) and streams cut after one signal.
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
      const { entries } = await server.published();
      // Bounded wait for delivery (the marker comes after the reconnect); a loss stays a loss.
      await until(async () => (await pool.verify(entries, { keys })).lost === 0, 'every stream to have every publish', 10_000, 20).catch(() => undefined);
      const verify = await pool.verify(entries, { keys });
      await pool.close('rst', keys);
      await until(async () => (await server.gauge()) === 0, 'the streams to close', 10_000, 20);
      log(`cursorless: ${name}: ${verify.lost} publishes lost over ${params.streams} streams (missed seq ${missedSeq})`);
      // What each stream must get, by hand: the priming signal (if any), the one published while away, the marker.
      const perStream = primed ? 3 : 2;
      return { missedSeq, markerSeq, perStream, verify };
    };
    const cursorless = await runCase('no-cursor', 0, false);
    const withCursor = await runCase('with-cursor', 10_000, true);
    const stats = await pool.stats();
    const row = (name: string, c: typeof cursorless): Check => {
      const check = recordCheck(name, c.verify, params.streams);
      const exact = c.verify.expected === params.streams * c.perStream;
      return {
        ...check,
        pass: check.pass && exact,
        value: `${check.value}; ${int(c.verify.expected)} expected, ${params.streams} x ${c.perStream} by hand`,
        target: `${check.target}, ${c.perStream} per stream`,
      };
    };
    const checks: Check[] = [
      row('streams cut after their first signal resume by replay (record oracle)', withCursor),
      row('streams cut before their first signal miss nothing (record oracle)', cursorless),
    ];
    return {
      name: 'cursorless',
      title: 'Reconnect before the first signal',
      params: { ...params },
      summary:
        `${params.streams} streams cut after their hello but before any signal, reconnecting with the cursor their hello ` +
        `gave: ${cursorless.verify.lost} of ${int(cursorless.verify.expected)} recorded publishes lost; the same cut after one signal: ` +
        `${withCursor.verify.lost} of ${int(withCursor.verify.expected)} lost`,
      checks,
      figures: { cursorless, withCursor, resets: stats.resets, resetReasons: stats.resetReasons },
      method: [
        'Found by the chaos scenario (fixed in 7eeca72): the `hello` that opens a stream was a control frame without an SSE ' +
          'id, so a client cut before its first signal held no cursor; `httpSubscriptionLink` then reconnected without ' +
          '`lastEventId`, the hub treated it as a new stream (no replay, no reset), and what was published while it was away ' +
          'was lost without a trace. A fresh stream\'s hello now carries the head as its starting cursor. Each case: open, ' +
          'reset every socket, wait until the gauge reads 0, publish one invalidation, reconnect each stream with its cursor, ' +
          'publish a marker, and run the record oracle: each stream must have the publishes the harness recorded after its hello ' +
          '(by hand: the priming signal when there is one, the signal published while away, the marker).',
      ],
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await pool.shutdown();
    await server.stop();
  }
}
