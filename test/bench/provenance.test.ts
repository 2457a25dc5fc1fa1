import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  changedOutsideResults,
  commandLine,
  headerClaim,
  keptPrevious,
  rerunNote,
  sectionLine,
  treeFingerprint,
  type Provenance,
  type StoredResult,
} from '../../bench/lib/provenance';

const COMMIT = 'a'.repeat(40);
const OTHER = 'b'.repeat(40);
const machine = { cores: 2, cpu: 'AMD EPYC', memoryGiB: 24, node: 'v20.20.2', platform: 'linux x64' };

const provenance = (over: Partial<Provenance> = {}): Provenance => ({
  commit: COMMIT,
  uncommitted: [],
  command: 'npm run bench',
  runId: 'run-1',
  sections: ['hub', 'transport'],
  full: true,
  tree: 'f'.repeat(40),
  ...over,
});

const stored = (name: string, p: Provenance | undefined, over: Partial<StoredResult> = {}): StoredResult => ({
  name,
  title: name,
  markdown: '',
  generatedAt: '2026-12-06T17:00:00.000Z',
  quick: false,
  machine,
  seconds: 12,
  ...(p ? { provenance: p } : {}),
  ...over,
});

describe('changedOutsideResults', () => {
  it('ignores the files a benchmark run writes and keeps every other change, renames by their new path', () => {
    const porcelain = [
      ' M bench/results/transport.json',
      '?? bench/results/transport.previous.json',
      ' M BENCHMARKS.md',
      ' M bench/freshness.svg',
      ' M packages/trpc-live/src/core/hub.ts',
      '?? bench/lib/provenance.ts',
      'R  old.ts -> "src/new file.ts"',
      '',
    ].join('\n');
    expect(changedOutsideResults(porcelain)).toEqual(['packages/trpc-live/src/core/hub.ts', 'bench/lib/provenance.ts', 'src/new file.ts']);
  });

  it('does not take a file that only starts like BENCHMARKS.md for the generated one', () => {
    expect(changedOutsideResults(' M BENCHMARKS.md.bak\n')).toEqual(['BENCHMARKS.md.bak']);
  });
});

describe('commandLine', () => {
  it('gives the npm command with the arguments after -- when npm ran the bench script', () => {
    expect(commandLine(['transport', '--quick'], { npm_lifecycle_event: 'bench' })).toBe('npm run bench -- transport --quick');
    expect(commandLine([], { npm_lifecycle_event: 'bench' })).toBe('npm run bench');
  });

  it('gives the tsx command when run directly, with the BENCH_ variables that change what runs in front', () => {
    const env = { BENCH_TRANSPORT_VARIANTS: 'bare,fast', BENCH_CPU_PROF: '/tmp/my profiles', PATH: '/usr/bin' };
    expect(commandLine(['transport'], env)).toBe(`BENCH_CPU_PROF='/tmp/my profiles' BENCH_TRANSPORT_VARIANTS=bare,fast tsx bench/run.ts transport`);
  });
});

describe('sectionLine', () => {
  it('names the commit, uncommitted changes, the command and that the section ran alone', () => {
    const line = sectionLine(
      stored('transport', provenance({ uncommitted: ['a.ts', 'b.ts', 'c.ts', 'd.ts'], command: 'npm run bench -- transport', sections: ['transport'], full: false })),
    );
    expect(line).toContain(`commit ${COMMIT.slice(0, 10)} + uncommitted changes (4 files: a.ts, b.ts, c.ts, …)`);
    expect(line).toContain('command `npm run bench -- transport`');
    expect(line).toContain('ran alone (run run-1)');
    expect(line).toContain('2026-12-06T17:00:00.000Z on 2 cores (AMD EPYC)');
  });

  it('says a section ran inside a full npm run bench, and says nothing is recorded for an old result', () => {
    expect(sectionLine(stored('hub', provenance()))).toContain('ran inside a full `npm run bench` (run run-1)');
    expect(sectionLine(stored('hub', provenance()))).not.toContain('uncommitted');
    expect(sectionLine(stored('hub', undefined))).toContain('not recorded');
  });
});

describe('headerClaim', () => {
  it('claims one full npm run bench only when every section carries the same full run id', () => {
    const claim = headerClaim([stored('hub', provenance()), stored('transport', provenance())]);
    expect(claim).toMatch(/^Every section below ran in one full `npm run bench` \(run run-1\)/);
  });

  it('does not claim one run when a section was rerun alone, or was stored without provenance', () => {
    const rerun = headerClaim([stored('hub', provenance()), stored('transport', provenance({ runId: 'run-2', full: false, sections: ['transport'] }))]);
    expect(rerun).toMatch(/^The sections below come from 2 separate invocations, not one full/);
    const old = headerClaim([stored('hub', provenance()), stored('transport', undefined)]);
    expect(old).toContain('1 section(s) were stored before issue 19');
    expect(old).not.toMatch(/^Every section/);
  });

  it('does not claim a full run for sections that ran together in one partial invocation', () => {
    const partial = provenance({ full: false, command: 'npm run bench -- hub transport' });
    expect(headerClaim([stored('hub', partial), stored('transport', partial)])).toMatch(/^The sections below come from 1 separate invocation,/);
  });
});

describe('keptPrevious and rerunNote', () => {
  it('keeps the overwritten result and the runs it replaced when the rerun measures the same commit', () => {
    const first = stored('transport', provenance({ runId: 'run-1' }), { summary: 'last client 1.87x' });
    const second = stored('transport', provenance({ runId: 'run-2', full: false }), { summary: 'last client 1.44x' });
    const kept = keptPrevious(second, [first], provenance({ runId: 'run-3' }));
    expect(kept.map((r) => r.summary)).toEqual(['last client 1.44x', 'last client 1.87x']);
    const note = rerunNote('transport', kept);
    expect(note).toContain('replaced 2 earlier runs of the same commit');
    expect(note).toContain('bench/results/transport.previous.json');
    expect(note).toContain('last client 1.44x');
    expect(note).toContain('last client 1.87x');
  });

  it('keeps nothing when the commit changed or the old result has no provenance, and shows no note then', () => {
    const old = stored('transport', provenance({ commit: OTHER }));
    expect(keptPrevious(old, [old], provenance())).toEqual([]);
    expect(keptPrevious(stored('transport', undefined), [], provenance())).toEqual([]);
    expect(keptPrevious(null, [], provenance())).toEqual([]);
    expect(rerunNote('transport', [])).toBe('');
  });
});

describe('treeFingerprint', () => {
  it('changes when code is edited or a file added mid-run, not when the bench writes its results', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-tree-'));
    try {
      const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
      git('init', '-q');
      mkdirSync(path.join(dir, 'bench', 'results'), { recursive: true });
      writeFileSync(path.join(dir, 'a.ts'), 'one');
      writeFileSync(path.join(dir, 'BENCHMARKS.md'), 'old');
      writeFileSync(path.join(dir, 'bench', 'results', 'hub.json'), '{}');
      git('add', '.');
      git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'init');
      const start = treeFingerprint(dir);
      writeFileSync(path.join(dir, 'BENCHMARKS.md'), 'new');
      writeFileSync(path.join(dir, 'bench', 'results', 'hub.json'), '{"x":1}');
      writeFileSync(path.join(dir, 'bench', 'results', 'hub.previous.json'), '[]');
      expect(treeFingerprint(dir)).toBe(start);
      writeFileSync(path.join(dir, 'a.ts'), 'two');
      const edited = treeFingerprint(dir);
      expect(edited).not.toBe(start);
      writeFileSync(path.join(dir, 'b.ts'), 'new file');
      expect(treeFingerprint(dir)).not.toBe(edited);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes the section say the working tree changed while it ran', () => {
    expect(sectionLine(stored('hub', provenance(), { treeChanged: true }))).toContain('The working tree changed while it ran');
    expect(sectionLine(stored('hub', provenance(), { treeChanged: false }))).not.toContain('changed while it ran');
  });
});
