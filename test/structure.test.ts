/**
 * Structure checks of the sources, as tests: no import cycle, no oversized
 * file, layers that import only downwards, no module-level mutable state.
 *
 * Each check is a pure function of a set of files (path → text), run once on
 * `src/` as it is on disk and once on small broken inputs that it must reject,
 * so a check that cannot fail is noticed. Imports are read with the
 * TypeScript parser (a devDependency already): comments, strings and JSDoc
 * examples are not imports; `import type`, `export … from`, `import()` and
 * `import('…').T` types are.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Files by repository-relative POSIX path (`src/contract/types.ts`) → text. */
type Files = Record<string, string>;

/** One import or re-export of a module. */
interface ImportRef {
  /** The module specifier as written: `./types`, `react`. */
  specifier: string;
  /** Whether it brings in types only (erased from the output). */
  typeOnly: boolean;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The largest source file allowed, in lines (DESIGN / working rules: "no source file over ~450 lines"). */
const MAX_LINES = 450;

const SOURCE_FILE = /\.tsx?$/;

/** Every `.ts`/`.tsx` file (not `.d.ts`) under `dir` of the repository, read from disk. */
function readSources(dir: string): Files {
  const files: Files = {};
  const walk = (relative: string) => {
    for (const entry of readdirSync(path.join(ROOT, relative), { withFileTypes: true })) {
      const child = `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (SOURCE_FILE.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        files[child] = readFileSync(path.join(ROOT, child), 'utf8');
      }
    }
  };
  walk(dir);
  return files;
}

function parse(file: string, text: string): ts.SourceFile {
  const kind = file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  return ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
}

/** Every module a file imports or re-exports from, type-only ones included. */
function importsOf(file: string, text: string): ImportRef[] {
  const refs: ImportRef[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const allNamedTypes =
        named !== undefined && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
      const typeOnly = clause !== undefined && (clause.isTypeOnly || (clause.name === undefined && allNamedTypes));
      refs.push({ specifier: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.exportClause;
      const allNamedTypes =
        clause !== undefined && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
      refs.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly || allNamedTypes });
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      refs.push({ specifier: node.moduleReference.expression.text, typeOnly: node.isTypeOnly });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      refs.push({ specifier: node.arguments[0].text, typeOnly: false });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      refs.push({ specifier: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(parse(file, text));
  return refs;
}

/** The file a relative specifier names among `files` (`./x` → `x.ts`, `x.tsx`, `x/index.ts`…), or `null`. */
function resolveRelative(from: string, specifier: string, files: Files): string | null {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  const stem = base.replace(/\.(m?js|jsx)$/, '');
  for (const candidate of [base, `${stem}.ts`, `${stem}.tsx`, `${stem}/index.ts`, `${stem}/index.tsx`]) {
    if (SOURCE_FILE.test(candidate) && candidate in files) return candidate;
  }
  return null;
}

/** The import graph of `files`: each file → the files it imports (relative specifiers only); unresolvable ones listed apart. */
function importGraph(files: Files): { graph: Map<string, string[]>; unresolved: string[] } {
  const graph = new Map<string, string[]>();
  const unresolved: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    const targets = new Set<string>();
    for (const { specifier } of importsOf(file, text)) {
      if (!specifier.startsWith('.')) continue;
      if (/\.(css|json|svg)$/.test(specifier)) continue;
      const target = resolveRelative(file, specifier, files);
      if (target === null) unresolved.push(`${file} → ${specifier}`);
      else targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return { graph, unresolved };
}

/** One group of modules that import each other. */
interface Cycle {
  /** The shortest cycle through the group's first module: `[a, b, …, a]`. */
  path: string[];
  /** Every module of the group (a strongly connected component), sorted; more than `path` when cycles overlap. */
  members: string[];
}

/**
 * The import cycles of a graph: one per strongly connected component that
 * has a cycle (Tarjan's algorithm), with the shortest way back to the
 * component's first node, so fixing one cycle never hides another.
 */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): Cycle[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;

  const connect = (node: string) => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      components.push(component);
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) connect(node);

  const cycles: Cycle[] = [];
  for (const component of components) {
    const sorted = [...component].sort();
    const members = new Set(component);
    const start = sorted[0]!;
    const selfLoop = (graph.get(start) ?? []).includes(start);
    if (component.length === 1 && !selfLoop) continue;
    if (selfLoop) {
      cycles.push({ path: [start, start], members: sorted });
      continue;
    }
    // Breadth-first from start's successors back to start, inside the component.
    const previous = new Map<string, string>();
    const queue = [start];
    let found = false;
    while (queue.length > 0 && !found) {
      const node = queue.shift()!;
      for (const next of graph.get(node) ?? []) {
        if (!members.has(next)) continue;
        if (next === start) {
          previous.set(start, node);
          found = true;
          break;
        }
        if (!previous.has(next)) {
          previous.set(next, node);
          queue.push(next);
        }
      }
    }
    const cycle = [start];
    for (let node = previous.get(start)!; node !== start; node = previous.get(node)!) cycle.unshift(node);
    cycle.unshift(start);
    cycles.push({ path: cycle, members: sorted });
  }
  return cycles.sort((a, b) => a.path[0]!.localeCompare(b.path[0]!));
}

/** Lines of a text as `wc -l` and editors count them (a final newline ends the last line). */
function lineCount(text: string): number {
  if (text === '') return 0;
  const lines = text.split('\n').length;
  return text.endsWith('\n') ? lines - 1 : lines;
}

/** Files longer than `max` lines, as `path (n lines)`. */
function oversizedFiles(files: Files, max = MAX_LINES): string[] {
  return Object.entries(files)
    .filter(([, text]) => lineCount(text) > max)
    .map(([file, text]) => `${file} (${lineCount(text)} lines)`)
    .sort();
}

/** A layer: files under `layer` may not import files under `notDirs`, nor the packages `notPackages` (their subpaths included). */
interface LayerRule {
  layer: string;
  notDirs: string[];
  notPackages: string[];
  /** Packages allowed only as `import type` (erased, so nothing of them ships). */
  typesOnlyPackages?: string[];
  /** When set, the layer imports nothing else: every relative import stays under `layer`, and no package at all. */
  selfContained?: boolean;
}

const REACT_PACKAGES = ['react', 'react-dom'];

/** DESIGN's package table: `jobwatch/core`, `/testing`, `/msw`, `/server` (and the BullMQ store) have no React; data flows client → watcher → cache → hook → component. */
const LAYER_RULES: LayerRule[] = [
  // The contract (types, errors, validation, ordering, REST rules) is the bottom layer: everything may import it, it imports nothing.
  { layer: 'src/contract/', notDirs: [], notPackages: [], selfContained: true },
  {
    layer: 'src/core/',
    notDirs: ['src/react/', 'src/components/', 'src/server/', 'src/testing/', 'src/msw/', 'src/bullmq/'],
    notPackages: REACT_PACKAGES,
    typesOnlyPackages: ['@tanstack/react-query'],
  },
  { layer: 'src/react/', notDirs: ['src/components/'], notPackages: [] },
  { layer: 'src/server/', notDirs: ['src/react/', 'src/components/'], notPackages: REACT_PACKAGES, typesOnlyPackages: ['@tanstack/react-query'] },
  { layer: 'src/testing/', notDirs: ['src/react/', 'src/components/'], notPackages: REACT_PACKAGES, typesOnlyPackages: ['@tanstack/react-query'] },
  { layer: 'src/msw/', notDirs: ['src/react/', 'src/components/'], notPackages: REACT_PACKAGES, typesOnlyPackages: ['@tanstack/react-query'] },
  { layer: 'src/bullmq/', notDirs: ['src/react/', 'src/components/'], notPackages: REACT_PACKAGES, typesOnlyPackages: ['@tanstack/react-query'] },
];

const isPackage = (specifier: string, name: string) => specifier === name || specifier.startsWith(`${name}/`);

/** Imports that break {@link LAYER_RULES}, as `file → specifier`. Type-only imports count, but for `typesOnlyPackages`. */
function layerViolations(files: Files, rules: LayerRule[] = LAYER_RULES): string[] {
  const violations: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    for (const rule of rules) {
      if (!file.startsWith(rule.layer)) continue;
      for (const { specifier, typeOnly } of importsOf(file, text)) {
        if (specifier.startsWith('.')) {
          const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
          if (rule.notDirs.some((dir) => `${target}/`.startsWith(dir))) violations.push(`${file} → ${specifier}`);
          else if (rule.selfContained && !`${target}/`.startsWith(rule.layer)) violations.push(`${file} → ${specifier}`);
        } else if (rule.selfContained || rule.notPackages.some((name) => isPackage(specifier, name))) {
          violations.push(`${file} → ${specifier}`);
        } else if (!typeOnly && rule.typesOnlyPackages?.some((name) => isPackage(specifier, name))) {
          violations.push(`${file} → ${specifier} (only \`import type\` allowed)`);
        }
      }
    }
  }
  return violations.sort();
}

const MUTABLE_COLLECTIONS = new Set(['Map', 'WeakMap', 'Set', 'WeakSet']);

/**
 * Module-level mutable state in one file, as `file:line what`: a top-level
 * `let`/`var`, or a `new Map`/`WeakMap`/`Set`/`WeakSet` made when the module
 * loads (anywhere in a top-level statement outside a function or class body,
 * e.g. `const cache = new Map()` or `const x = { seen: new Set() }`), also in
 * a class's static fields. A constant lookup table typed read-only,
 * `const CODES: ReadonlySet<number> = new Set([…])`, is not state.
 */
function moduleStateIn(file: string, text: string): string[] {
  const source = parse(file, text);
  const found: string[] = [];
  // `const X: ReadonlySet<…> = new Set(…)` (or ReadonlyMap / Map) is a constant table: its type allows no change.
  const constantTables = new Set<ts.Node>();
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement) || !(statement.declarationList.flags & ts.NodeFlags.Const)) continue;
    for (const { type, initializer } of statement.declarationList.declarations) {
      const readonlyType = type && ts.isTypeReferenceNode(type) && ts.isIdentifier(type.typeName) ? type.typeName.text : null;
      const made = initializer && ts.isNewExpression(initializer) && ts.isIdentifier(initializer.expression) ? initializer.expression.text : null;
      if ((readonlyType === 'ReadonlySet' && made === 'Set') || (readonlyType === 'ReadonlyMap' && made === 'Map')) {
        constantTables.add(initializer!);
      }
    }
  }
  const at = (node: ts.Node) => `${file}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`;
  const visit = (node: ts.Node) => {
    // Code in a function runs later, and instance fields per instance: not at module load.
    // A class's static fields and blocks do run at load.
    if (ts.isFunctionLike(node)) return;
    if (ts.isClassLike(node)) {
      for (const member of node.members) {
        const isStatic = ts.canHaveModifiers(member) && ts.getModifiers(member)?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword);
        if (ts.isClassStaticBlockDeclaration(member) || (ts.isPropertyDeclaration(member) && isStatic)) ts.forEachChild(member, visit);
      }
      return;
    }
    if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      MUTABLE_COLLECTIONS.has(node.expression.text) &&
      !constantTables.has(node)
    ) {
      found.push(`${at(node)} new ${node.expression.text} at module scope`);
    }
    ts.forEachChild(node, visit);
  };
  for (const statement of source.statements) {
    if (ts.isVariableStatement(statement) && !(statement.declarationList.flags & ts.NodeFlags.Const)) {
      const keyword = statement.declarationList.flags & ts.NodeFlags.Let ? 'let' : 'var';
      const names = statement.declarationList.declarations.map((d) => d.name.getText(source)).join(', ');
      found.push(`${at(statement)} top-level ${keyword} ${names}`);
    }
    visit(statement);
  }
  return found;
}

/** {@link moduleStateIn} over many files. */
function moduleStateViolations(files: Files): string[] {
  return Object.entries(files)
    .flatMap(([file, text]) => moduleStateIn(file, text))
    .sort();
}

/** Cycles as `a → b → a`, followed by the rest of their group when it is larger. */
const cyclePaths = (cycles: Cycle[]) =>
  cycles.map(({ path: cycle, members }) => {
    const others = members.filter((member) => !cycle.includes(member));
    return cycle.join(' → ') + (others.length > 0 ? ` (same group: ${others.join(', ')})` : '');
  });

describe('structure of src/', () => {
  const sources = readSources('src');

  it('reads the sources', () => {
    expect(Object.keys(sources)).toContain('src/index.ts');
    expect(Object.keys(sources)).toContain('src/contract/types.ts');
    expect(Object.keys(sources).length).toBeGreaterThan(50);
  });

  it('has no import cycle (type-only imports count)', () => {
    const { graph, unresolved } = importGraph(sources);
    expect(unresolved, 'relative imports that name no file in src/').toEqual([]);
    expect(cyclePaths(findCycles(graph)), 'import cycles').toEqual([]);
  });

  it(`has no source file over ${MAX_LINES} lines`, () => {
    expect(oversizedFiles(sources), `files over ${MAX_LINES} lines: split a coherent unit out`).toEqual([]);
  });

  it('imports only downwards: contract imports nothing outside itself, core has no React and no upper layer, react no components, server/testing/msw/bullmq no React', () => {
    expect(layerViolations(sources)).toEqual([]);
  });

  it('has no module-level mutable state (top-level let/var, new Map/WeakMap/Set/WeakSet at module scope)', () => {
    expect(moduleStateViolations(sources), 'keep state in a provider, a watcher or a store instance').toEqual([]);
  });
});

describe('structure checks reject broken input', () => {
  it('importsOf reads every import form, type-only ones included, and skips comments and strings', () => {
    const text = [
      "import { a } from './a';",
      "import type { B } from './b';",
      "import { type C, type D } from './c';",
      "import E, { type F } from './e';",
      "import './side-effect';",
      "export { g } from './g';",
      "export type { H } from './h';",
      "export * from './star';",
      "import i = require('./i');",
      "const j = () => import('./j');",
      "type K = import('./k').K;",
      "// import { nope } from './comment';",
      "/** @example import { nope } from './jsdoc'; */",
      "const s = \"import { nope } from './string'\";",
    ].join('\n');
    expect(importsOf('src/x.ts', text)).toEqual([
      { specifier: './a', typeOnly: false },
      { specifier: './b', typeOnly: true },
      { specifier: './c', typeOnly: true },
      { specifier: './e', typeOnly: false },
      { specifier: './side-effect', typeOnly: false },
      { specifier: './g', typeOnly: false },
      { specifier: './h', typeOnly: true },
      { specifier: './star', typeOnly: false },
      { specifier: './i', typeOnly: false },
      { specifier: './j', typeOnly: false },
      { specifier: './k', typeOnly: true },
    ]);
  });

  it('resolveRelative finds .ts, .tsx and index files, and reports what it cannot find', () => {
    const files: Files = { 'src/a/b.ts': '', 'src/a/c.tsx': '', 'src/d/index.ts': '' };
    expect(resolveRelative('src/a/x.ts', './b', files)).toBe('src/a/b.ts');
    expect(resolveRelative('src/a/x.ts', './b.js', files)).toBe('src/a/b.ts');
    expect(resolveRelative('src/a/x.ts', './c', files)).toBe('src/a/c.tsx');
    expect(resolveRelative('src/a/x.ts', '../d', files)).toBe('src/d/index.ts');
    expect(resolveRelative('src/a/x.ts', './missing', files)).toBeNull();
    expect(importGraph({ 'src/a.ts': "import { x } from './missing';" }).unresolved).toEqual(['src/a.ts → ./missing']);
  });

  it('findCycles names the path of each cycle, and finds none in a graph without one', () => {
    const graph = new Map<string, string[]>([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
      ['e', ['e']],
      ['f', ['a']],
    ]);
    expect(cyclePaths(findCycles(graph))).toEqual(['a → b → c → a', 'e → e']);
    const dag = new Map<string, string[]>([
      ['a', ['b', 'c']],
      ['b', ['c']],
      ['c', []],
    ]);
    expect(findCycles(dag)).toEqual([]);
  });

  it('findCycles gives the shortest way back, and names the rest of the group', () => {
    const graph = new Map<string, string[]>([
      ['a', ['b', 'x']],
      ['b', ['a']],
      ['x', ['y']],
      ['y', ['a']],
    ]);
    expect(cyclePaths(findCycles(graph))).toEqual(['a → b → a (same group: x, y)']);
  });

  it('a type-only cycle between two files is a cycle', () => {
    const files: Files = {
      'src/core/eventStreams.ts': "import type { Options } from './client';\nexport const streams = 1;",
      'src/core/client.ts': "import { streams } from './eventStreams';\nexport interface Options { a: number }",
    };
    const { graph } = importGraph(files);
    expect(cyclePaths(findCycles(graph))).toEqual(['src/core/client.ts → src/core/eventStreams.ts → src/core/client.ts']);
  });

  it(`oversizedFiles flags a file of ${MAX_LINES + 1} lines, not one of ${MAX_LINES}`, () => {
    const lines = (n: number) => 'const x = 1;\n'.repeat(n);
    expect(lineCount(lines(3))).toBe(3);
    expect(lineCount('a\nb')).toBe(2);
    expect(oversizedFiles({ 'src/ok.ts': lines(MAX_LINES), 'src/big.ts': lines(MAX_LINES + 1) })).toEqual([
      `src/big.ts (${MAX_LINES + 1} lines)`,
    ]);
  });

  it('layerViolations flags upward imports, React in core and server, and runtime react-query in core', () => {
    const files: Files = {
      'src/core/a.ts': "import type { UseJobStatusOptions } from '../react/types';",
      'src/core/b.ts': "import { useState } from 'react';",
      'src/core/c.ts': "import { jsx } from 'react/jsx-runtime';",
      'src/core/d.ts': "import { QueryClient } from '@tanstack/react-query';",
      'src/core/ok.ts': "import type { DataTag } from '@tanstack/react-query';\nimport { isTerminal } from '../contract/states';",
      'src/core/watcher/e.ts': "export { x } from '../../testing/memoryStore';",
      'src/react/f.ts': "import { JobStatus } from '../components/JobStatus';",
      'src/react/ok.ts': "import { isTerminal } from '../contract/states';",
      'src/server/g.ts': "import type { JobStatusProps } from '../components/JobStatus';",
      'src/components/ok.tsx': "import { useJobStatus } from '../react/useJobStatus';",
    };
    expect(layerViolations(files)).toEqual([
      'src/core/a.ts → ../react/types',
      'src/core/b.ts → react',
      'src/core/c.ts → react/jsx-runtime',
      'src/core/d.ts → @tanstack/react-query (only `import type` allowed)',
      'src/core/watcher/e.ts → ../../testing/memoryStore',
      'src/react/f.ts → ../components/JobStatus',
      'src/server/g.ts → ../components/JobStatus',
    ]);
  });

  it('layerViolations flags any import out of src/contract (a package, type-only too, or another layer), not one inside it or one into it', () => {
    const files: Files = {
      'src/contract/a.ts': "import { createJobWatcher } from '../core/createJobWatcher';",
      'src/contract/b.ts': "import type { QueryKey } from '@tanstack/react-query';",
      'src/contract/c.ts': "import { useState } from 'react';",
      'src/contract/d.ts': "import type { Job } from '../contractual/types';",
      'src/contract/ok.ts': "import type { Job } from './types';\nexport * from './states';",
      'src/core/ok.ts': "import { isTerminal } from '../contract/states';",
      'src/server/ok.ts': "import { JobRequestError } from '../contract/errors';",
      'src/react/ok.ts': "import type { Job } from '../contract';",
    };
    expect(layerViolations(files)).toEqual([
      'src/contract/a.ts → ../core/createJobWatcher',
      'src/contract/b.ts → @tanstack/react-query',
      'src/contract/c.ts → react',
      'src/contract/d.ts → ../contractual/types',
    ]);
  });

  it('layerViolations does not take a sibling folder sharing a prefix for a forbidden one', () => {
    expect(layerViolations({ 'src/core/a.ts': "import { x } from '../reactive/x';" })).toEqual([]);
  });

  it('moduleStateIn flags module-scope collections and top-level let/var, not ones made inside functions', () => {
    const text = [
      'const cache = new Map<string, number>();',
      'export const seen = new WeakMap();',
      'const holder = { ids: new Set<string>() };',
      'let counter = 0;',
      'var legacy = 1;',
      'export let exported: string | undefined;',
      'const frozen = Object.freeze({ a: 1 });',
      'const KEYS = [1, 2] as const;',
      'function make() { const m = new Map(); let n = 0; return { m, n }; }',
      'const factory = () => new Set();',
      'const viaFunction = function () { return new WeakSet(); };',
      'class Store { items = new Map(); static cache = new Map(); static { new Set(); } }',
      'export default function f() { return new Map(); }',
      'const CODES: ReadonlySet<number> = new Set([301, 302]);',
      'const NAMES: ReadonlyMap<string, number> = new Map([["a", 1]]);',
      'const notReally: ReadonlySet<number> = new Map() as never;',
      'const wrapped: ReadonlySet<number> = keep(new Set());',
      'let table: ReadonlySet<number> = new Set();',
    ].join('\n');
    expect(moduleStateIn('src/x.ts', text)).toEqual([
      'src/x.ts:1 new Map at module scope',
      'src/x.ts:2 new WeakMap at module scope',
      'src/x.ts:3 new Set at module scope',
      'src/x.ts:4 top-level let counter',
      'src/x.ts:5 top-level var legacy',
      'src/x.ts:6 top-level let exported',
      'src/x.ts:12 new Map at module scope',
      'src/x.ts:12 new Set at module scope',
      'src/x.ts:16 new Map at module scope',
      'src/x.ts:17 new Set at module scope',
      'src/x.ts:18 top-level let table',
      'src/x.ts:18 new Set at module scope',
    ]);
  });
});
