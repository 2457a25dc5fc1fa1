import path from 'node:path';
import { ESLint } from 'eslint';

// Layering checks lint probe sources under the repo's real ESLint config. The probe files need not
// exist: lintText only uses the path to pick the rules that apply.
const root = path.resolve(__dirname, '../..');
const eslint = new ESLint({ cwd: root });

/** The `no-restricted-imports` messages ESLint gives `source` as if it were `file` (relative to the repo root). */
export async function restrictedImports(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: path.join(root, file) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

/** A probe module that imports `spec` at runtime. */
export const importOf = (spec: string) => `import * as m from '${spec}';\nexport const probe = m;\n`;
