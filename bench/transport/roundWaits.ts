/**
 * Why the transport bench's one-event rounds spread (issue 19 item 7: rounds of 14–16 ms and of 20–35 ms at
 * 1,000 streams), from its raw results: for each variant and size, the fastest and the slowest third of the
 * rounds, side by side, with what the scheduler says the server's and the clients' event loops did meanwhile
 * (their CPU time, and their time ready to run but waiting for a CPU; `roundsSched` in
 * bench/results/transport.json, recorded by every run since it was added) and, given `--gc <dir>` from a run
 * under bench/lib/gcPauses.mjs, the GC pauses of the server and client processes that overlapped them.
 *
 *   npx tsx bench/transport/roundWaits.ts [results.json] [--gc <dir>]
 *
 * Diagnostic only: nothing in BENCHMARKS.md reads it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { median } from '../lib/report';
import type { RunFigures, SizeFigures } from './report';

type Pause = [start: number, durationMs: number, kind: string];

/** One round as the run recorded it (`roundsSched`), with its time until the last client had the event. */
type Round = NonNullable<SizeFigures['roundsSched']>[number] & { lastMs: number };

/** GC pauses of every process a `gcPauses.mjs` run logged, as server or client processes (by script name). */
function readPauses(dir: string): { server: Pause[]; clients: Pause[] } {
  const out = { server: [] as Pause[], clients: [] as Pause[] };
  for (const file of readdirSync(dir)) {
    if (!file.startsWith('gc-') || !file.endsWith('.json')) continue;
    const pauses = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Pause[];
    if (file.includes('servers_')) out.server.push(...pauses);
    else if (file.includes('clients')) out.clients.push(...pauses);
  }
  return out;
}

const overlapping = (round: Round, pauses: readonly Pause[]) => pauses.filter(([start, ms]) => start < round.lastAt && start + ms > round.t0);

/** The rounds of one variant at one size, over every run. */
function roundsOf(runs: readonly RunFigures[], size: number): Round[] {
  const rounds: Round[] = [];
  for (const run of runs) {
    const s = run.sizes.find((x) => x.connections === size);
    if (!s?.roundsSched) continue;
    s.roundsSched.forEach((sched, i) => {
      const lastMs = s.lastClientRoundsMs[i]!;
      if (Number.isFinite(lastMs)) rounds.push({ lastMs, ...sched });
    });
  }
  return rounds.sort((a, b) => a.lastMs - b.lastMs);
}

const ms = (values: number[]) => (values.length ? `${median(values).toFixed(1)} ms` : '—');

/** The report: one block per variant and size. */
export function roundWaits(runs: readonly RunFigures[], pauses?: { server: Pause[]; clients: Pause[] }): string {
  const lines: string[] = [];
  const names = [...new Set(runs.map((r) => r.name))];
  const sizes = [...new Set(runs.flatMap((r) => r.sizes.map((s) => s.connections)))];
  for (const name of names) {
    for (const size of sizes) {
      const rounds = roundsOf(runs.filter((r) => r.name === name), size);
      if (rounds.length < 6) continue;
      const third = Math.floor(rounds.length / 3);
      const parts = [rounds.slice(0, third), rounds.slice(-third)] as const;
      const col = (pick: (r: Round) => number | undefined) =>
        parts.map((p) => ms(p.map(pick).filter((x): x is number => x !== undefined && Number.isFinite(x)))).join(' / ');
      lines.push(`${name}, ${size} streams: ${rounds.length} rounds; fastest third / slowest third (medians)`);
      lines.push(`  last client: ${col((r) => r.lastMs)}`);
      lines.push(`  server event loop: CPU ${col((r) => r.server?.cpuMs)}, waiting for a CPU ${col((r) => r.server?.waitMs)}`);
      lines.push(`  clients' event loop: CPU ${col((r) => r.clients?.cpuMs)}, waiting for a CPU ${col((r) => r.clients?.waitMs)}`);
      if (pauses) {
        const gc = (list: readonly Pause[]) =>
          parts.map((p) => `${p.filter((r) => overlapping(r, list).length).length} of ${p.length} rounds (longest ${Math.max(0, ...p.flatMap((r) => overlapping(r, list).map(([, d]) => d))).toFixed(1)} ms)`).join(' / ');
        lines.push(`  GC pauses overlapping: server ${gc(pauses.server)}; clients ${gc(pauses.clients)}`);
      }
    }
  }
  return lines.join('\n');
}

function main() {
  const args = process.argv.slice(2);
  const gcAt = args.indexOf('--gc');
  const gcDir = gcAt >= 0 ? args[gcAt + 1] : undefined;
  // The results file: the argument that is neither an option nor --gc's directory.
  const file = args.find((a, i) => !a.startsWith('--') && (gcAt < 0 || i !== gcAt + 1)) ?? path.join(import.meta.dirname, '../results/transport.json');
  const runs = (JSON.parse(readFileSync(file, 'utf8')) as { data: { runs: RunFigures[] } }).data.runs;
  const text = roundWaits(runs, gcDir ? readPauses(gcDir) : undefined);
  console.log(text || `No rounds with scheduler figures in ${file} (recorded by runs since bench/lib/schedstat.ts).`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) main();
