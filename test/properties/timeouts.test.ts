// @vitest-environment node
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const DIR = path.dirname(fileURLToPath(import.meta.url));
/** A property test may take this long on an idle machine several times over; vitest's 5 s default is not enough on a busy 2-core one. */
const MIN_TIMEOUT_MS = 30_000;

/** Every `it(…)` / `test(…)` call in `file`: its name and its explicit timeout (the third argument), if any. */
function testCalls(file: string): Array<{ name: string; timeout: number | null }> {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const calls: Array<{ name: string; timeout: number | null }> = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && ['it', 'test'].includes(node.expression.text)) {
      const [name, , timeout] = node.arguments;
      const value = timeout && ts.isNumericLiteral(timeout) ? Number(timeout.text.replace(/_/g, '')) : null;
      calls.push({ name: name ? name.getText(source) : '(unnamed)', timeout: value });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return calls;
}

describe('property tests', () => {
  const files = readdirSync(DIR).filter((name) => /\.property\.test\.tsx?$/.test(name));

  it('are found', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
  });

  it.each(files)('%s: every test has an explicit timeout sized for a busy 2-core machine', (name) => {
    const calls = testCalls(path.join(DIR, name));
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.timeout, `${name}: ${call.name} needs an explicit timeout (e.g. }, 60_000);)`).not.toBeNull();
      expect(call.timeout!, `${name}: ${call.name}`).toBeGreaterThanOrEqual(MIN_TIMEOUT_MS);
    }
  });
});
