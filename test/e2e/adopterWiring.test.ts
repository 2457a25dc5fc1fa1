// Issue 16, item 4: adopting trpc-live takes at most 30 added lines in the files a Next.js + tRPC
// app already has plus one new file (the registry), and the package README shows exactly those
// lines. Counted from the adopter fixture's `.before` copies (test/fixtures/adopterWiring.ts);
// test/e2e/adopter.production.test.ts proves the wired fixture works with the packed package.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adopterDir, addedLines, adopterWiring, CHANGED_FILES, countLines, FAST_TRANSPORT_FILES, NEW_FILES, SERVER_RENDER_FILES } from '../fixtures/adopterWiring';

/** The budget for the whole adoption. */
const MAX_ADDED_LINES = 30;

const readme = readFileSync(path.resolve(import.meta.dirname, '../../packages/trpc-live/README.md'), 'utf8');
/** The README section under `heading`, up to the next `## `. */
function section(heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`);
  expect(start, `README has "${heading}"`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start + heading.length + 2);
  return readme.slice(start, end === -1 ? undefined : end);
}
const diffLines = (text: string) => new Set(text.split('\n').filter((line) => line.startsWith('+')).map((line) => line.slice(1)));

describe('the adoption wiring', () => {
  it('counts as added the lines a diff adds or changes, and none it keeps or drops', () => {
    expect(addedLines(['a', 'b', 'c', 'd'], ['a', 'x', 'c', 'd', 'e'])).toEqual(['x', 'e']);
    expect(addedLines(['a', 'b'], ['a', 'b'])).toEqual([]);
    expect(addedLines(['a', 'b', 'c'], ['c'])).toEqual([]);
  });

  it('adds at most 30 lines, in files a tRPC app already has plus the one new registry file', () => {
    const wiring = adopterWiring();
    expect(Object.keys(wiring)).toEqual([...CHANGED_FILES, ...NEW_FILES]);
    expect(NEW_FILES).toHaveLength(1);
    // Every changed file really changed (a file listed but untouched would hide nothing, but say so).
    for (const file of CHANGED_FILES) expect(wiring[file]!.length, file).toBeGreaterThan(0);
    expect(countLines(wiring)).toBeLessThanOrEqual(MAX_ADDED_LINES);
  });

  it("shows every added line of the fixture in the README's setup section, and its counts", () => {
    const setup = section('## Add to an existing Next.js + tRPC app');
    const shown = diffLines(setup);
    const wiring = adopterWiring();
    for (const file of CHANGED_FILES) for (const line of wiring[file]!) expect(shown, `${file}: ${line}`).toContain(line);
    for (const file of NEW_FILES) expect(setup).toContain(`\`\`\`ts\n${readFileSync(path.join(adopterDir, file), 'utf8')}\`\`\``);
    const inChanged = CHANGED_FILES.reduce((sum, file) => sum + wiring[file]!.length, 0);
    expect(setup).toContain(`one\nnew file and ${inChanged} lines in five files you already have, ${countLines(wiring)} in all`);
  });

  it("shows every added line of the server-rendering step (tRPC's server.tsx) in the README", () => {
    const step = section('## Server rendering without a stale gap');
    const shown = diffLines(step);
    const wiring = adopterWiring(SERVER_RENDER_FILES, []);
    const added = wiring['src/trpc/server.tsx']!;
    // The step reads the cursor before the first query and seeds the browser's stream with it.
    expect(added.join('\n')).toContain('live.cursor()');
    expect(added.join('\n')).toContain('<LiveCursorSeed');
    for (const line of added) expect(shown, line).toContain(line);
    expect(step).toContain(`these ${added.length} lines`);
  });

  it("shows every added line of the fast transport's custom server in the README", () => {
    const fast = section('## Second step: the fast transport');
    const shown = diffLines(fast);
    const wiring = adopterWiring(FAST_TRANSPORT_FILES, []);
    for (const line of wiring['server.ts']!) expect(shown, line).toContain(line);
    expect(fast).toContain(`these ${wiring['server.ts']!.length} lines added`);
  });
});
