import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import type { machineFacts } from './report';

/**
 * What produced a section of BENCHMARKS.md (issue 19): the code, the command
 * and the invocation it ran in. Recorded once per `bench/run.ts` invocation,
 * when it starts, and stored with every section that invocation writes.
 */
export interface Provenance {
  /** `git rev-parse HEAD` at the start ('unknown' outside a git checkout). */
  readonly commit: string;
  /** Paths `git status --porcelain` showed changed, outside the bench's own outputs ({@link GENERATED_PATHS}). */
  readonly uncommitted: readonly string[];
  /** The command as run: `npm run bench -- transport --quick`, with any BENCH_* variables in front. */
  readonly command: string;
  /** Shared by every section of one invocation. */
  readonly runId: string;
  /** Sections this invocation ran, in order. */
  readonly sections: readonly string[];
  /** It ran every section (`npm run bench` with no names). */
  readonly full: boolean;
  /** {@link treeFingerprint} at the start: a section that ends with another one measured code edited mid-run. */
  readonly tree: string;
}

/** A section as stored in bench/results/<name>.json. */
export interface StoredResult {
  readonly name: string;
  readonly title: string;
  readonly markdown: string;
  readonly summary?: string;
  readonly generatedAt: string;
  readonly quick: boolean;
  readonly machine: ReturnType<typeof machineFacts>;
  readonly seconds: number;
  /** Missing in results stored before issue 19. */
  readonly provenance?: Provenance;
  /** The working tree (outside the bench outputs) was different when the section ended than when the invocation started. */
  readonly treeChanged?: boolean;
}

/** What a benchmark run writes; changes to these do not make the measured code "uncommitted". */
export const GENERATED_PATHS: readonly string[] = ['bench/results/', 'BENCHMARKS.md', 'bench/freshness.svg'];

/** Paths of `git status --porcelain` output, minus {@link GENERATED_PATHS} (a rename counts by its new path). */
export function changedOutsideResults(porcelain: string): string[] {
  return porcelain
    .split('\n')
    .filter((line) => line.length > 3)
    .map((line) => {
      const entry = line.slice(3);
      const target = entry.includes(' -> ') ? entry.slice(entry.indexOf(' -> ') + 4) : entry;
      return target.startsWith('"') && target.endsWith('"') ? target.slice(1, -1) : target;
    })
    .filter((file) => !GENERATED_PATHS.some((generated) => (generated.endsWith('/') ? file.startsWith(generated) : file === generated)));
}

/**
 * The command line as the user typed it: `npm run bench -- <args>` when npm
 * ran the `bench` script, else `tsx bench/run.ts <args>`; every BENCH_*
 * variable of `env` (they change what runs) in front, sorted.
 */
export function commandLine(args: readonly string[], env: Readonly<Record<string, string | undefined>>): string {
  const quote = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
  const vars = Object.keys(env)
    .filter((key) => key.startsWith('BENCH_') && env[key] !== undefined)
    .sort()
    .map((key) => `${key}=${quote(env[key]!)}`);
  const npm = env.npm_lifecycle_event === 'bench';
  const tail = args.map(quote).join(' ');
  const command = npm ? `npm run bench${tail ? ` -- ${tail}` : ''}` : `tsx bench/run.ts${tail ? ` ${tail}` : ''}`;
  return [...vars, command].join(' ');
}

function git(root: string, ...args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 256 * 2 ** 20 });
  } catch {
    return null;
  }
}

/**
 * A hash of the code as it is now, outside the bench outputs: HEAD, the
 * diff of tracked files against it, and the untracked files with their
 * modification times. Others may edit a shared working tree while a
 * benchmark runs (and the production build is rebuilt from it on demand).
 */
export function treeFingerprint(root: string): string {
  const outside = GENERATED_PATHS.map((p) => `:(exclude)${p.replace(/\/$/, '')}`);
  const untracked = (git(root, 'ls-files', '--others', '--exclude-standard', '--', '.', ...outside) ?? '')
    .split('\n')
    .filter(Boolean)
    .map((file) => {
      try {
        return `${file} ${statSync(path.join(root, file)).mtimeMs}`;
      } catch {
        return `${file} gone`;
      }
    });
  return createHash('sha1')
    .update(git(root, 'rev-parse', 'HEAD') ?? '')
    .update(git(root, 'diff', 'HEAD', '--', '.', ...outside) ?? '(git diff failed)')
    .update(untracked.join('\n'))
    .digest('hex');
}

/** The provenance of this invocation, from git and process.argv (`root`: the repository). */
export function collectProvenance(root: string, sections: readonly string[], full: boolean): Provenance {
  const status = git(root, 'status', '--porcelain');
  return {
    commit: git(root, 'rev-parse', 'HEAD')?.trim() || 'unknown',
    uncommitted: status === null ? ['(git status failed)'] : changedOutsideResults(status),
    command: commandLine(process.argv.slice(2), process.env),
    runId: `${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`,
    sections,
    full,
    tree: treeFingerprint(root),
  };
}

/** `abc1234 + uncommitted changes (2 files: a.ts, b.ts)`; at most three paths named. */
export function describeCommit(p: Provenance): string {
  const short = p.commit === 'unknown' ? 'unknown commit' : `commit ${p.commit.slice(0, 10)}`;
  if (!p.uncommitted.length) return short;
  const named = p.uncommitted.slice(0, 3).join(', ') + (p.uncommitted.length > 3 ? ', …' : '');
  return `${short} + uncommitted changes (${p.uncommitted.length} file${p.uncommitted.length > 1 ? 's' : ''}: ${named})`;
}

/** How the section's invocation relates to a full run: alone, with some others, or inside a full `npm run bench`. */
export function describeInvocation(p: Provenance): string {
  if (p.full) return `inside a full \`npm run bench\` (run ${p.runId})`;
  if (p.sections.length <= 1) return `alone (run ${p.runId})`;
  return `in one invocation with ${p.sections.length - 1} other section(s), not a full run (run ${p.runId}: ${p.sections.join(', ')})`;
}

function describeMachine(m: StoredResult['machine']): string {
  return `${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}`;
}

/** The italic line under a section's heading: what produced it. */
export function sectionLine(result: StoredResult): string {
  const when = `${result.generatedAt}${result.quick ? ' (quick mode: indicative only)' : ''} on ${describeMachine(result.machine)}; took ${result.seconds.toFixed(0)} s`;
  const p = result.provenance;
  if (!p) return `_Run ${when}. Commit, command and invocation not recorded (stored before issue 19)._`;
  const changed = result.treeChanged ? ' **The working tree changed while it ran**: files were edited mid-run, so its figures may mix two versions of the code.' : '';
  return `_Run ${when}. Measured ${describeCommit(p)}; command \`${p.command}\`, ran ${describeInvocation(p)}._${changed}`;
}

/**
 * The header's claim about how the sections were produced: one full
 * `npm run bench` only when every stored section says so with the same run id.
 */
export function headerClaim(results: readonly StoredResult[]): string {
  const runs = new Set(results.map((r) => r.provenance?.runId ?? `unrecorded:${r.name}`));
  const first = results[0]?.provenance;
  if (first && runs.size === 1 && first.full && results.every((r) => r.provenance?.full)) {
    return `Every section below ran in one full \`${first.command}\` (run ${first.runId}), ${describeCommit(first)}.`;
  }
  const unrecorded = results.filter((r) => !r.provenance).length;
  return (
    `The sections below come from ${runs.size} separate invocation${runs.size === 1 ? '' : 's'}, not one full \`npm run bench\`: each section says its commit, the command that ran it and whether it ran alone.` +
    (unrecorded ? ` ${unrecorded} section(s) were stored before issue 19 and do not record them.` : '')
  );
}

/**
 * Earlier runs of the same commit a rerun replaced (newest first), as shown
 * in the section: their date, command and summary (the verdicts), so no
 * rerun silently stands in for them.
 */
export function rerunNote(name: string, previous: readonly StoredResult[]): string {
  if (!previous.length) return '';
  const runs = previous.map((r) => {
    const how = r.provenance ? `\`${r.provenance.command}\`, ${r.provenance.full ? 'full run' : 'alone'}` : 'command not recorded';
    return `${r.generatedAt}${r.quick ? ' (quick)' : ''} (${how}): ${r.summary || 'no summary recorded; see the file'}`;
  });
  return (
    `**Rerun**: this section replaced ${previous.length} earlier run${previous.length > 1 ? 's' : ''} of the same commit (kept in \`bench/results/${name}.previous.json\`). ` +
    `Previous run${previous.length > 1 ? 's, newest first' : ''} gave: ${runs.join('; ')}.`
  );
}

/**
 * Which earlier runs to keep when `next` overwrites `current`: `current` and
 * the runs it had replaced, when they measured the same commit; none when
 * the commit changed (a new commit is new code, not a rerun).
 */
export function keptPrevious(current: StoredResult | null, earlier: readonly StoredResult[], next: Provenance): StoredResult[] {
  if (!current?.provenance || current.provenance.commit !== next.commit || next.commit === 'unknown') return [];
  return [current, ...earlier.filter((r) => r.provenance?.commit === next.commit)];
}
