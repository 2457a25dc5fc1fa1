import { pinProcess, planCpuPinning, type CpuPinning, type PinningScope } from '../../bench/lib/cpuPinning';

/**
 * `SOAK_PIN=0`: `npm run soak` pins nothing (servers, clients and the runner
 * share every core, as before 2026-12-07). Unset (the default): pin when the
 * machine allows it (bench/lib/cpuPinning.ts).
 */
export const SOAK_PIN_ENV = 'SOAK_PIN';

/** The CPU list soak servers start on (`taskset`), set by the runner when it pinned; unset: any CPU. */
export const SERVER_CPUS_ENV = 'SOAK_SERVER_CPUS';

/** The soak's scope: {@link SOAK_PIN_ENV}; the runner is pinned with the clients (it hosts probes and spawns them). */
export const SOAK_PINNING: PinningScope = {
  env: SOAK_PIN_ENV,
  describe: (server, clients) =>
    `server processes pinned to CPU ${server}; client processes, the runner and redis-server to CPU ${clients} (\`taskset\`)`,
};

/**
 * Pins the soak the way the benchmarks pin theirs, so that a server's figures
 * are its own rather than the scheduler's: the runner moves itself (and so
 * everything it starts later, which inherits its CPUs: client processes,
 * redis-server) to every CPU but the first, and servers started by
 * `startSoakServer` and `startBareBatched` go to the first.
 *
 * Why: on 2 cores the client processes took the server's CPU and its
 * caches, so a server figure measured the scheduler too. Runs alone,
 * 2026-12-07 at 9bafd9e: capacity storm (row 7) unpinned 0.41-0.48 ms of
 * server CPU per reconnect (3 runs; p99 4765-6525 ms), pinned 0.32-0.38 (3
 * runs; p99 4213-5319 ms: the 4 client processes, now on one core, then
 * bound the storm in one of them, 5.8 s of their CPU); redeploy storm with
 * Redis (row 3c) p99 minus the restart 7.7 and 11.8 s unpinned, 3.6 and 6.1
 * s pinned (2 runs each).
 */
export function pinSoak(env: Readonly<Record<string, string | undefined>> = process.env): CpuPinning {
  const plan = planCpuPinning(undefined, undefined, env, SOAK_PINNING);
  if (plan.pinned) {
    pinProcess(process.pid, plan.clients);
    process.env[SERVER_CPUS_ENV] = plan.server;
  }
  return plan;
}

/** The CPUs soak servers run on: what {@link pinSoak} chose, or undefined (any) when nothing was pinned. */
export function soakServerCpus(): string | undefined {
  return process.env[SERVER_CPUS_ENV] || undefined;
}
