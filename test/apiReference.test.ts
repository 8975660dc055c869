// @vitest-environment node
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { Application, Logger, LogLevel, ReflectionKind, RendererEvent, TSConfigReader, type Router, TypeDocReader, type ProjectReflection } from 'typedoc';

// The API reference (`npm run docs:api`, served by the catalogue at api/index.html)
// is generated from the JSDoc by TypeDoc with typedoc.json. Here it is generated
// into a temp folder, as the script does, and held to the project's rules: it
// covers every package entry, every export of an entry has its page or anchor,
// and no export (nor any option or field) lacks JSDoc.
const root = process.cwd();
const config = JSON.parse(readFileSync(path.join(root, 'typedoc.json'), 'utf8')) as { entryPoints: string[] };
const tsconfig = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8')) as {
  compilerOptions: { paths: Record<string, [string]> };
};
const packageJson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };

/** The package's code entries (`jobwatch`, `jobwatch/core`, …) and the source file each builds from. */
const entries = Object.keys(packageJson.exports)
  .filter((key) => key !== './package.json' && !key.endsWith('.css'))
  .map((key) => {
    const name = key === '.' ? 'jobwatch' : `jobwatch/${key.slice(2)}`;
    const source = tsconfig.compilerOptions.paths[name]?.[0];
    return { name, source: source ? path.normalize(source) : `(no tsconfig path for ${name})` };
  });

/** Every name an entry exports, values and types alike, as TypeScript sees it. */
function exportedNames(files: string[]): Map<string, string[]> {
  const program = ts.createProgram(files, { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, jsx: ts.JsxEmit.ReactJSX, skipLibCheck: true, noEmit: true });
  const checker = program.getTypeChecker();
  return new Map(
    files.map((file) => {
      const symbol = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
      return [file, checker.getExportsOfModule(symbol).map((s) => s.name).sort()] as const;
    }),
  );
}

/** A logger that keeps TypeDoc's warnings instead of printing them. */
class CollectingLogger extends Logger {
  readonly warnings: string[] = [];
  override log(message: string, level: LogLevel): void {
    if (level === LogLevel.Warn || level === LogLevel.Error) this.warnings.push(message);
  }
}

const out = mkdtempSync(path.join(tmpdir(), 'jobwatch-api-'));
let project: ProjectReflection | undefined;
let router: Router | undefined;
const logger = new CollectingLogger();
let exports = new Map<string, string[]>();

beforeAll(async () => {
  const app = await Application.bootstrapWithPlugins({ out }, [new TypeDocReader(), new TSConfigReader()]);
  app.logger = logger;
  // Where each reflection was rendered; the renderer forgets its router once rendering ends.
  app.renderer.on(RendererEvent.END, () => {
    router = app.renderer.router;
  });
  project = await app.convert();
  if (project) {
    app.validate(project);
    await app.generateDocs(project, out);
  }
  exports = exportedNames(entries.map((e) => path.join(root, e.source)));
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('API reference (TypeDoc, from the JSDoc)', () => {
  it('documents every package entry, and only those', () => {
    expect(config.entryPoints.map((p) => path.normalize(p)).sort()).toEqual(entries.map((e) => e.source).sort());
  });

  it('builds, with an index page', () => {
    expect(project).toBeDefined();
    expect(logger.warnings.filter((w) => !/does not have any documentation|links to|not included in the documentation/.test(w))).toEqual([]);
    expect(existsSync(path.join(out, 'index.html'))).toBe(true);
  });

  it('every export has JSDoc (no option or field left undocumented)', () => {
    expect(project).toBeDefined();
    expect(logger.warnings.filter((w) => /does not have any documentation/.test(w))).toEqual([]);
  });

  it.each(entries.map((e) => [e.name, e.source] as const))('every export of %s has its place in the reference (%s)', (name, source) => {
    const names = exports.get(path.join(root, source)) ?? [];
    expect(names.length).toBeGreaterThan(0);
    const module = project!.getChildrenByKind(ReflectionKind.Module).find((m) => m.name === name);
    expect(module, `module ${name}`).toBeDefined();
    const documented = new Map((module!.children ?? []).map((child) => [child.name, child] as const));
    expect(names.filter((n) => !documented.has(n))).toEqual([]);
    // Each one is rendered: a page of its own, or an anchor on its module's page, that exists on disk.
    expect(router).toBeDefined();
    const missingPages = names.filter((n) => {
      const url = router!.getFullUrl(documented.get(n)!).split('#')[0]!;
      return !existsSync(path.join(out, url));
    });
    expect(missingPages).toEqual([]);
    expect(existsSync(path.join(out, router!.getFullUrl(module!)))).toBe(true);
  });
});
