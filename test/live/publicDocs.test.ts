// Every public export of the package is documented (issue 16, item 9): each name an entry point
// (packages/trpc-live/package.json `exports`) makes reachable has a JSDoc comment; every member of a
// public interface, type literal or class declared in the package has one; and every optional member
// of an options-like type (…Options, …Props, …Settings, …Limits) states its default with `@default`.
// Read with the TypeScript compiler from the source, the way an editor shows it to an adopter.
import { readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '../../packages/trpc-live');
const sourceDir = join(packageDir, 'src') + sep;

/** Names allowed to go undocumented, each with the reason. Empty on purpose: add here, not silently. */
const UNDOCUMENTED: Record<string, string> = {};

/** Types whose optional members are options an adopter sets, so each states its default. */
const OPTIONS_LIKE = /(Options|Props|Settings|Limits)$/;

function entryFiles(): Record<string, string> {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
  const entries: Record<string, string> = {};
  for (const subpath of Object.keys(manifest.exports)) {
    if (subpath === './package.json') continue;
    entries[`trpc-live/${subpath.slice(2)}`] = join(packageDir, 'src', subpath.slice(2), 'index.ts');
  }
  return entries;
}

let entryProgram: ts.Program | undefined;

/** One program over every entry, shared by the tests of this file (building it takes seconds). */
function programOfEntries(): ts.Program {
  entryProgram ??= program(Object.values(entryFiles()));
  return entryProgram;
}

function program(files: string[]): ts.Program {
  const config = ts.getParsedCommandLineOfConfigFile(join(packageDir, 'tsconfig.json'), { noEmit: true }, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  });
  if (!config) throw new Error('cannot read packages/trpc-live/tsconfig.json');
  return ts.createProgram(files, config.options);
}

const ours = (node: ts.Node) => node.getSourceFile().fileName.startsWith(sourceDir.split(sep).join('/'));

function hasDoc(symbol: ts.Symbol, checker: ts.TypeChecker): boolean {
  return ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim().length > 0;
}

/** Where a symbol is declared, as `src/…:line`, so a gap message says which file to open. */
function where(symbol: ts.Symbol): string {
  const declaration = symbol.getDeclarations()?.find(ours) ?? symbol.getDeclarations()?.[0];
  if (!declaration) return '?';
  const source = declaration.getSourceFile();
  const { line } = source.getLineAndCharacterOfPosition(declaration.getStart());
  return `${source.fileName.slice(packageDir.length + 1)}:${line + 1}`;
}

function hasDefaultTag(symbol: ts.Symbol): boolean {
  return (symbol.getDeclarations() ?? []).some((declaration) =>
    ts.getJSDocTags(declaration).some((tag) => tag.tagName.text === 'default'),
  );
}

/** Members that an adopter sees on a public interface, object type or class (ours only, not inherited from libs). */
function membersOf(symbol: ts.Symbol, checker: ts.TypeChecker): ts.Symbol[] {
  const declaration = symbol.getDeclarations()?.[0];
  if (!declaration) return [];
  let type: ts.Type | undefined;
  if (ts.isInterfaceDeclaration(declaration) || ts.isClassDeclaration(declaration)) type = checker.getDeclaredTypeOfSymbol(symbol);
  else if (ts.isTypeAliasDeclaration(declaration) && ts.isTypeLiteralNode(declaration.type)) type = checker.getTypeFromTypeNode(declaration.type);
  if (!type) return [];
  return checker.getPropertiesOfType(type).filter((member) => {
    const declarations = member.getDeclarations() ?? [];
    if (!declarations.some(ours)) return false;
    return !declarations.some((d) => {
      const flags = ts.getCombinedModifierFlags(d as ts.Declaration);
      return (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0 || (ts.isPropertyDeclaration(d) || ts.isMethodDeclaration(d)) && ts.isPrivateIdentifier(d.name);
    });
  });
}

/** Every documentation gap of the package's public API, as `entry: Name[.member] (what is missing)`. */
function documentationGaps(): string[] {
  const entries = entryFiles();
  const prog = programOfEntries();
  const checker = prog.getTypeChecker();
  const gaps: string[] = [];
  const seen = new Set<ts.Symbol>();
  for (const [entry, file] of Object.entries(entries)) {
    const source = prog.getSourceFile(file);
    if (!source) throw new Error(`entry ${entry} has no source file ${file}`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`entry ${entry} exports nothing`);
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const name = `${entry}: ${exported.name}`;
      if (UNDOCUMENTED[exported.name] !== undefined || seen.has(symbol)) continue;
      seen.add(symbol);
      if (!hasDoc(symbol, checker)) gaps.push(`${name} (no JSDoc; ${where(symbol)})`);
      const optionsLike = OPTIONS_LIKE.test(exported.name);
      for (const member of membersOf(symbol, checker)) {
        if (!hasDoc(member, checker)) gaps.push(`${name}.${member.name} (no JSDoc; ${where(member)})`);
        else if (optionsLike && member.flags & ts.SymbolFlags.Optional && !hasDefaultTag(member)) gaps.push(`${name}.${member.name} (optional, no @default; ${where(member)})`);
      }
    }
  }
  return gaps;
}

const UNSTABLE_CORE = '@trpc/server/unstable-core-do-not-import';

/** Functions that call into the unstable path only through an option marked unstable itself, with the reason. */
const UNSTABLE_ONLY_THROUGH_AN_OPTION: Record<string, string> = {
  createLive: 'calls resolveInvalidations, which parses input with tRPC internals only when its `router` option (marked) is given',
};

/** The tables of the package README's section "Entry points, and what is unstable", as rows of cells. */
function readmeTables(): string[][][] {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((part) => part.startsWith('Entry points, and what is unstable'));
  if (!section) throw new Error('the package README has no section "Entry points, and what is unstable"');
  const tables: string[][][] = [];
  let current: string[][] | null = null;
  for (const line of section.split('\n')) {
    if (!line.startsWith('|')) {
      current = null;
      continue;
    }
    if (/^\|[-| ]+\|$/.test(line)) continue;
    if (!current) tables.push((current = []));
    else current.push(line.slice(1, -1).split(' | ').map((cell) => cell.trim()));
  }
  return tables;
}

/** The `code` spans of a Markdown cell. */
const ticked = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);

const isUnstableRemark = (declaration: ts.Node) =>
  ts.getJSDocTags(declaration).some((tag) => tag.tagName.text === 'remarks' && /^Unstable\b/.test(ts.getTextOfJSDocComment(tag.comment) ?? ''));

/**
 * Exported functions that lean on `@trpc/server/unstable-core-do-not-import`: their body names
 * something their file imports from there, or another such function (to a fixpoint). Read from the
 * source text, so a new use of the internals cannot go unmarked.
 */
function unstableExports(): { name: string; marked: boolean; internals: string[] }[] {
  const entries = entryFiles();
  const prog = programOfEntries();
  const checker = prog.getTypeChecker();
  const functions = new Map<string, ts.Node>();
  for (const file of Object.values(entries)) {
    const moduleSymbol = checker.getSymbolAtLocation(prog.getSourceFile(file)!)!;
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const declaration = symbol.getDeclarations()?.find(ours);
      if (declaration && ts.isFunctionDeclaration(declaration) && declaration.body) functions.set(exported.name, declaration);
    }
  }
  const importedInternals = (source: ts.SourceFile): string[] =>
    source.statements.flatMap((statement) =>
      ts.isImportDeclaration(statement) &&
      ts.isStringLiteral(statement.moduleSpecifier) &&
      statement.moduleSpecifier.text === UNSTABLE_CORE &&
      statement.importClause?.namedBindings &&
      ts.isNamedImports(statement.importClause.namedBindings)
        ? statement.importClause.namedBindings.elements.map((element) => element.name.text)
        : [],
    );
  const unstable = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const [name, declaration] of functions) {
      if (unstable.has(name)) continue;
      const body = (declaration as ts.FunctionDeclaration).body!.getText();
      const uses = [...importedInternals(declaration.getSourceFile()), ...[...unstable].filter((other) => other !== name)];
      if (uses.some((used) => new RegExp(`\\b${used}\\b`).test(body))) {
        unstable.add(name);
        grew = true;
      }
    }
  }
  return [...unstable].sort().map((name) => {
    const declaration = functions.get(name)!;
    return { name, marked: isUnstableRemark(declaration), internals: importedInternals(declaration.getSourceFile()) };
  });
}

describe('public API documentation', () => {
  it('has JSDoc on every export of every entry point, and @default on every optional option', () => {
    const gaps = documentationGaps();
    expect(gaps, `${gaps.length} gaps:\n${gaps.join('\n')}`).toEqual([]);
  }, 60_000);

  it('marks every export that leans on tRPC internals with @remarks Unstable, as README lists them', () => {
    const found = unstableExports();
    const table = readmeTables()[1]!;
    // The oracle is README's "what is unstable" table: its exports (first column) are the ones found
    // in the source, and it names every internal they use (second column).
    const prog = programOfEntries();
    const checker = prog.getTypeChecker();
    const exportedNames = new Set(
      Object.values(entryFiles()).flatMap((file) => checker.getExportsOfModule(checker.getSymbolAtLocation(prog.getSourceFile(file)!)!).map((symbol) => symbol.name)),
    );
    // Exports named in the first column (not the entry names or option names around them).
    const listed = table.flatMap((row) => ticked(row[0]!)).filter((name) => exportedNames.has(name));
    expect(found.map((entry) => entry.name)).toEqual([...new Set(listed)].sort());
    const named = new Set(table.flatMap((row) => ticked(row[1]!)));
    expect(found.flatMap((entry) => entry.internals).filter((internal) => !named.has(internal))).toEqual([]);
    const unmarked = found.filter((entry) => !entry.marked && UNSTABLE_ONLY_THROUGH_AN_OPTION[entry.name] === undefined);
    expect(unmarked.map((entry) => entry.name)).toEqual([]);
  }, 60_000);

  it('lists every entry point in README, each with names it really exports', () => {
    const prog = programOfEntries();
    const checker = prog.getTypeChecker();
    const rows = readmeTables()[0]!.filter((row) => /^`trpc-live\/[a-z]+`$/.test(row[0]!.trim()));
    const entries = entryFiles();
    expect(rows.map((row) => ticked(row[0]!)[0]).sort()).toEqual(Object.keys(entries).sort());
    for (const row of rows) {
      const entry = ticked(row[0]!)[0]!;
      const exported = new Set(checker.getExportsOfModule(checker.getSymbolAtLocation(prog.getSourceFile(entries[entry]!)!)!).map((symbol) => symbol.name));
      const named = ticked(row[1]!).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'ioredis');
      expect(named.length, entry).toBeGreaterThan(0);
      expect(named.filter((name) => !exported.has(name)), entry).toEqual([]);
    }
  }, 60_000);

  it('finds a gap when an export has no doc comment', () => {
    // The check itself: a throwaway module with one undocumented export and one documented one.
    const host = ts.createCompilerHost({});
    const file = join(sourceDir, '__probe__.ts');
    const text = '/** Documented. */\nexport const a = 1;\nexport const b = 2;\nexport interface ProbeOptions {\n  /** Has no default tag. */\n  c?: number;\n}\n';
    const readFile = host.readFile.bind(host);
    host.readFile = (name) => (name === file ? text : readFile(name));
    host.fileExists = ((exists) => (name: string) => name === file || exists(name))(host.fileExists.bind(host));
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, version) => (name === file ? ts.createSourceFile(name, text, version) : getSourceFile(name, version));
    const probe = ts.createProgram([file], {}, host);
    const checker = probe.getTypeChecker();
    const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(probe.getSourceFile(file)!)!);
    const undocumented = exports.filter((symbol) => !hasDoc(symbol, checker)).map((symbol) => symbol.name);
    expect(undocumented).toEqual(['b', 'ProbeOptions']);
    const options = exports.find((symbol) => symbol.name === 'ProbeOptions')!;
    expect(membersOf(options, checker).filter((member) => !hasDefaultTag(member)).map((member) => member.name)).toEqual(['c']);
  });
});
