/**
 * One tenant's mutations in a phase, and when the data oracle reads the state
 * each one left (actors.ts).
 *
 * Sends follow the seeded schedule: the n-th at `startedAt + at_n`, where
 * `at` adds exponential gaps (mean 60 s / rate) until the phase's duration,
 * one mutation at a time (a send waits for the previous response). How many
 * mutations a phase has and when each is due depend on the seed alone, not on
 * how long anything took.
 *
 * The tenant's actor is the only writer of its data, so the state a mutation
 * leaves lasts from its response until the next send. The oracle reads it in
 * that window, as late as it can: {@link SETTLE_LEAD_MS} before the next send
 * (at once when the next send is closer than that, or when there is none).
 * Until 2026-12-07 it read right after the response, the moment the tenant's
 * browsers are applying that same change: its CPU (SQL, comparison, digests)
 * then sat on the simulated browsers' core inside the freshness it measures.
 * The state it captures is the same either way.
 */

/** How long before the tenant's next send the oracle reads the previous mutation's state (it took 1-6 ms per read in (d)'s heavy phase). */
export const SETTLE_LEAD_MS = 25;

export interface TenantScheduleOptions<R> {
  /** When the phase started (the clock of `now`). */
  readonly startedAt: number;
  readonly durationMs: number;
  /** The next gap between two sends, ms (seeded). */
  nextGap(): number;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Sends one mutation and resolves with its record once its response arrived. */
  mutate(): Promise<R>;
  /** The data oracle: reads the state `record`'s mutation left, and resolves with the record completed. */
  settle(record: R): Promise<R>;
  /** Where records go, in the order their responses arrived; a settled record replaces its own entry. */
  readonly records: R[];
  readonly leadMs?: number;
}

/** Runs one tenant's mutations of a phase; resolves once the last one is sent, answered and settled. */
export async function runTenantSchedule<R>(options: TenantScheduleOptions<R>): Promise<void> {
  const { startedAt, durationMs, now, sleep, records } = options;
  const lead = options.leadMs ?? SETTLE_LEAD_MS;
  const until = async (time: number) => {
    const wait = time - now();
    if (wait > 0) await sleep(wait);
  };
  let pending = -1;
  const settlePending = async () => {
    if (pending === -1) return;
    const index = pending;
    pending = -1;
    records[index] = await options.settle(records[index]!);
  };
  let at = options.nextGap();
  while (at < durationMs) {
    const sendAt = startedAt + at;
    await until(sendAt - lead);
    await settlePending();
    await until(sendAt);
    records.push(await options.mutate());
    pending = records.length - 1;
    at += options.nextGap();
  }
  await settlePending();
}
