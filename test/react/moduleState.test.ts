/**
 * The React layer keeps no state at module level: per-provider state lives
 * in the provider (its context's `local`), so several providers on one page
 * and server renders stay apart. Read from the files on disk with the
 * TypeScript parser: a collection made when a module loads is a finding.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const REACT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/react');
const COLLECTIONS = ['Map', 'WeakMap', 'Set', 'WeakSet'];

/** `name:line what` for each collection made at module load, and each top-level `let`/`var`. */
function moduleState(name: string, text: string): string[] {
  const source = ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true, name.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: string[] = [];
  const line = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const visit = (node: ts.Node): void => {
    // Function bodies and class bodies run later, per call or instance.
    if (ts.isFunctionLike(node) || ts.isClassLike(node)) return;
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && COLLECTIONS.includes(node.expression.text)) {
      found.push(`${name}:${line(node)} new ${node.expression.text}`);
    }
    ts.forEachChild(node, visit);
  };
  for (const statement of source.statements) {
    if (ts.isVariableStatement(statement) && !(statement.declarationList.flags & ts.NodeFlags.Const)) {
      found.push(`${name}:${line(statement)} top-level let/var`);
    }
    visit(statement);
  }
  return found;
}

describe('src/react keeps no module-level state', () => {
  it('has no module-scope new Map/WeakMap/Set/WeakSet and no top-level let/var', () => {
    const files = readdirSync(REACT_DIR).filter((f) => /\.tsx?$/.test(f));
    expect(files).toContain('JobClientProvider.tsx');
    const found = files.flatMap((f) => moduleState(f, readFileSync(path.join(REACT_DIR, f), 'utf8')));
    expect(found, 'keep per-provider state in the provider (useJobContext().local)').toEqual([]);
  });

  it('the check finds a module-level WeakMap keyed by the watcher, and not one made inside a function', () => {
    const text = [
      'const perWatcher = new WeakMap<object, Map<object, number>>();',
      'let counter = 0;',
      'function make() { return new Map(); }',
      'const factory = () => new Set();',
    ].join('\n');
    expect(moduleState('x.ts', text)).toEqual(['x.ts:1 new WeakMap', 'x.ts:2 top-level let/var']);
  });
});
