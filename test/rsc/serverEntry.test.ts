// @vitest-environment node
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';

// Next.js App Router, without Next.js: the README's server component (examples/rsc-page.tsx)
// runs against the BUILT package (`npm run build` first; `npm test` builds before vitest, and
// like test/dist.test.ts this file waits for dist/) in a child `node --conditions=react-server`
// whose module hooks turn every "use client" module into client references, as an RSC bundler does.
const root = process.cwd();
const dist = path.join(root, 'dist');
const here = path.join(root, 'test/rsc');
const run = promisify(execFile);

/** The example compiled to plain ESM (`.tmp/` is git-ignored and inside the package, so `jobwatch/*` resolves to dist/). */
function compileExamples(rewrite: (source: string) => string = (s) => s): string {
  mkdirSync(path.join(here, '.tmp'), { recursive: true });
  const out = mkdtempSync(path.join(here, '.tmp', 'app-'));
  for (const [from, to] of [
    ['rsc-page.tsx', 'page.mjs'],
    ['app-deps.ts', 'app-deps.mjs'],
  ] as const) {
    const source = readFileSync(path.join(root, 'examples', from), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, jsx: ts.JsxEmit.ReactJSX },
    });
    writeFileSync(path.join(out, to), rewrite(outputText.replace("from './app-deps'", "from './app-deps.mjs'")));
  }
  return out;
}

async function renderPages(dir: string) {
  const { stdout } = await run(
    process.execPath,
    ['--conditions=react-server', '--import', path.join(here, 'registerClientReferences.mjs'), path.join(here, 'renderPage.mjs'), dir],
    { cwd: root, env: { ...process.env, EXAMPLE_SESSION_USER: 'u1' }, timeout: 30_000 },
  );
  return JSON.parse(stdout) as Record<string, Element>;
}

interface Element {
  type: string;
  clientReference: boolean;
  props: Record<string, unknown> & { state?: { queries: { queryKey: unknown[]; state: { status: string; data?: { id: string; status: string; progress?: number } } }[] } };
  children: (Element | string)[];
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe.runIf(existsSync(path.join(dist, 'core.js')))('jobwatch/core in a React Server Component (built package)', () => {
  it('dist/core.js and dist/core.cjs are not client modules and load no React', () => {
    for (const file of ['core.js', 'core.cjs']) {
      const code = readFileSync(path.join(dist, file), 'utf8');
      expect(code, file).not.toMatch(/['"]use client['"]/);
      expect(code, file).not.toMatch(/(?:from\s*|import\s*\(\s*|require\(\s*)['"](?:react|react-dom|@tanstack\/react-query)(?:\/[^'"]*)?['"]/);
    }
  });

  it('the App Router page prefetches with jobStatusQueryOptions from jobwatch/core and dehydrates the job into HydrationBoundary', async () => {
    const dir = compileExamples();
    dirs.push(dir);
    const pages = await renderPages(dir);

    const done = pages.done!;
    expect(done.type).toBe('HydrationBoundary');
    expect(done.clientReference).toBe(true); // rendered from the server, runs on the client
    expect(done.props.state?.queries).toEqual([
      expect.objectContaining({
        queryKey: ['jobwatch', 'status', 'done'],
        state: expect.objectContaining({ status: 'success', data: expect.objectContaining({ id: 'done', status: 'completed' }) }),
      }),
    ]);
    // JobStatus and JobProgress from `jobwatch` are client references rendered with serialisable props.
    const clientChildren = done.children.filter((child): child is Element => typeof child === 'object' && child.clientReference);
    expect(clientChildren.map((child) => [child.type, child.props])).toEqual([
      ['JobStatus', { jobId: 'done', detailed: true }],
      ['JobProgress', { jobId: 'done', 'aria-labelledby': 'job-title' }],
    ]);

    expect(pages.running!.props.state?.queries[0]?.state.data).toMatchObject({ status: 'processing', progress: 0.45 });
    // Another owner's job and an unknown id are not prefetched: the client reads them (and shows "Job not found").
    expect(pages.theirs!.props.state?.queries).toEqual([]);
    expect(pages.unknown!.props.state?.queries).toEqual([]);
  }, 60_000);

  it('the same page importing jobStatusQueryOptions from the "use client" jobwatch entry fails, as a Next.js page does (500)', async () => {
    const dir = compileExamples((source) => source.replace("from 'jobwatch/core'", "from 'jobwatch'"));
    dirs.push(dir);
    await expect(renderPages(dir)).rejects.toThrow(/Attempted to call jobStatusQueryOptions\(\) from the server/);
  }, 60_000);
});
