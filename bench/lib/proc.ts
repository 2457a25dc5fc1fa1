import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | null = null;

/** Kernel clock ticks per second (`getconf CLK_TCK`, 100 on Linux in practice). */
function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces). */
function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Pids of `pid` and every live descendant. */
function withDescendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const child = Number(entry);
    if (!Number.isInteger(child)) continue;
    const fields = statFields(child);
    if (fields) parentOf.set(child, Number(fields[1])); // field 4 (ppid) is index 1 after the name
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    for (const [child, parent] of parentOf) if (parent === out[i]) out.push(child);
  }
  return out;
}

/**
 * CPU seconds (user + system) used so far by a process and its live
 * descendants, from /proc/<pid>/stat (utime + stime). Linux only.
 */
export function processCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of withDescendants(pid)) {
    const fields = statFields(p);
    // utime and stime are fields 14 and 15 of stat: indexes 11 and 12 here.
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / clockTicks();
}

/** Resident memory of a process in MiB (VmRSS), or NaN. */
export function processRssMiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Established TCP connections whose local port is `port` (the server side
 * of every client connection), read from /proc/net/tcp and tcp6.
 */
export function establishedConnections(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let count = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // cols[1] = local address:port, cols[3] = state (01 = ESTABLISHED).
      if (cols.length > 3 && cols[1]!.endsWith(`:${hexPort}`) && cols[3] === '01') count++;
    }
  }
  return count;
}
