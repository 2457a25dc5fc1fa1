import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Which cores a benchmark's server and its load generators run on. On a
 * small machine the simulated clients can take the CPU the server needs (or
 * the reverse), so a phase would measure the scheduler; pinning them to
 * different cores keeps each side's figures its own.
 */
export interface CpuPinning {
  /** True when the server and the clients were given separate cores. */
  readonly pinned: boolean;
  /** taskset cpu list of the server (e.g. `0`), when pinned. */
  readonly server?: string;
  /** taskset cpu list of the clients (e.g. `1` or `1-3`), when pinned. */
  readonly clients?: string;
  /** What was done, or why nothing was, for the report. */
  readonly note: string;
}

/** CPUs this process may run on (`Cpus_allowed_list` of /proc/self/status, expanded), or null off Linux. */
export function allowedCpus(status = readProcStatus()): number[] | null {
  const match = status ? /^Cpus_allowed_list:\s*(\S+)/m.exec(status) : null;
  if (!match) return null;
  const out: number[] = [];
  for (const part of match[1]!.split(',')) {
    const [from, to] = part.split('-').map(Number);
    if (!Number.isInteger(from)) continue;
    for (let cpu = from!; cpu <= (Number.isInteger(to) ? to! : from!); cpu++) out.push(cpu);
  }
  return out;
}

function readProcStatus(): string | null {
  try {
    return readFileSync('/proc/self/status', 'utf8');
  } catch {
    return null;
  }
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * `BENCH_PIN=0`: pin nothing (server and clients share every core), e.g.
 * when the clients need more than the cores left to them. Unset (the
 * default): pin when possible.
 */
export const PIN_ENV = 'BENCH_PIN';

/**
 * Plans the pinning: the server on the first CPU this process may use, the
 * clients on the others, when `taskset` exists and at least 2 CPUs are
 * allowed, unless {@link PIN_ENV} is `0`; otherwise nothing is pinned and the
 * note says why.
 */
export function planCpuPinning(
  cpus: number[] | null = allowedCpus(),
  taskset: boolean = hasTaskset(),
  env: Readonly<Record<string, string | undefined>> = process.env,
): CpuPinning {
  if (env[PIN_ENV] === '0') return { pinned: false, note: `not pinned: ${PIN_ENV}=0 (server and clients share every core)` };
  if (!taskset) return { pinned: false, note: 'not pinned: `taskset` is not installed (server and clients share every core)' };
  if (!cpus || cpus.length < 2) return { pinned: false, note: `not pinned: ${cpus ? cpus.length : 'unknown'} CPU(s) allowed (server and clients share them)` };
  const [server, ...rest] = cpus;
  const clients = rest.length === 1 ? String(rest[0]) : rest.join(',');
  return {
    pinned: true,
    server: String(server),
    clients,
    note: `server pinned to CPU ${server}, simulated browsers and actors to CPU ${clients} (\`taskset\`; the orchestrating process is not pinned, and mostly waits)`,
  };
}

/** The command prefix that starts a process on `cpus` (taskset execs the command: the pid stays the process's own). */
export function pinnedCommand(cpus: string | undefined, command: string, args: readonly string[]): [string, string[]] {
  return cpus === undefined ? [command, [...args]] : ['taskset', ['-c', cpus, command, ...args]];
}

/** Moves a running process and all its threads to `cpus` (`taskset -a -p -c`); threads it starts later inherit it. */
export function pinProcess(pid: number, cpus: string | undefined): void {
  if (cpus === undefined) return;
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}
