import { readFileSync } from 'node:fs';

/**
 * The kernel's `TcpExt ListenOverflows` counter (/proc/net/netstat): SYNs or
 * handshakes dropped because a listening socket's accept queue was full. A
 * client whose connect was dropped retries after 1, 2, 4, 8 ... s, so a storm
 * that overflows the queue (Node listens with a backlog of 511) shows up as
 * resume times of ~1, 3, 7, 15, 31, 63 s. Machine-wide: other processes'
 * listeners count too. NaN where /proc/net/netstat is absent.
 */
export function listenOverflows(): number {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const names = lines[0]!.split(' ');
    const values = lines[1]!.split(' ');
    const i = names.indexOf('ListenOverflows');
    return i === -1 ? NaN : Number(values[i]);
  } catch {
    return NaN;
  }
}
