import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's CPU fields (USER_HZ: 100 on every Linux build Node supports). */
const USER_HZ = 100;

/**
 * CPU time (user + system, ms) a process used so far, read from
 * /proc/<pid>/stat, so any child counts the same way whether or not it
 * answers the harness (the transport bench's bare servers do not report
 * their CPU). 10 ms resolution; NaN where /proc is absent or the process is gone.
 */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after its closing parenthesis: utime is the 14th field.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return NaN;
  }
}
