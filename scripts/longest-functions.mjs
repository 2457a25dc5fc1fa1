// Lists the longest functions and classes (lines, start to end) under the given folders, parsed with
// TypeScript's own parser: the unit sizes issue 18 measures before and after a refactor.
// Usage: node scripts/longest-functions.mjs packages/trpc-live/src src [--top 15]
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt === -1 ? 15 : Number(args.splice(topAt, 2)[1]);
const roots = args.length ? args : ['packages/trpc-live/src', 'src'];
const rows = [];

function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'dist') walk(file);
    } else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      measure(file);
    }
  }
}

function measure(file) {
  const kind = file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, kind);
  const lineOf = (pos) => source.getLineAndCharacterOfPosition(pos).line;
  const visit = (node) => {
    const isClass = ts.isClassLike(node);
    if ((ts.isFunctionLike(node) && node.body) || isClass) {
      const start = lineOf(node.getStart());
      const named = node.name?.getText() ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText() : '<anonymous>');
      rows.push({ lines: lineOf(node.end) - start + 1, name: named, isClass, at: `${file}:${start + 1}` });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

roots.forEach(walk);
rows.sort((a, b) => b.lines - a.lines);
const print = (title, list) => {
  console.log(title);
  for (const row of list.slice(0, top)) console.log(`${String(row.lines).padStart(5)}  ${row.name}  ${row.at}`);
};
print('Longest functions (lines):', rows.filter((row) => !row.isClass));
print('Largest classes (lines):', rows.filter((row) => row.isClass));
