// The static catalogue works from plain files: `storybook build` into a temp
// folder, serve it with a bare static file server on 127.0.0.1, and run the
// "Project page over HTTP" story (fetch client -> MSW worker -> handler ->
// in-memory backend) in headless Chromium. Also checks the MSW worker is
// shipped and each component has its generated docs page, and that the
// catalogue looks finished: it opens on the Introduction page, shows no
// Storybook onboarding checklist, its showcases carry no test instrumentation
// (test-only stories stay out of the sidebar and docs), and the docs tables
// give real defaults. The guides (stories/guides/*.mdx) are pages of it, each
// rendering its heading, their links lead to pages that exist, and the API
// reference (TypeDoc, `npm run docs:api`) is served as api/ and opens from the
// Introduction.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright';

const root = path.resolve(import.meta.dirname, '../..');
const out = mkdtempSync(path.join(tmpdir(), 'jobwatch-catalogue-'));
const failures = [];
const check = (ok, what) => {
  console.log(`  ${ok ? '✓' : '✗'} ${what}`);
  if (!ok) failures.push(what);
};

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml', '.woff2': 'font/woff2' };

/** The "Default" column of `prop`'s row in the props table of the docs page open in `page`. */
async function defaultOf(page, prop) {
  const name = page.locator('td:first-child', { hasText: new RegExp(`^${prop}\\*?$`) });
  const row = page.locator('table.docblock-argstable tbody tr').filter({ has: name }).first();
  await row.waitFor({ timeout: 15_000 });
  return (await row.locator('td').nth(2).innerText()).trim();
}

/** Each guide: its catalogue id, its file, and the heading its page opens with. */
const GUIDES = [
  ['guides-connect-your-api--docs', 'connect-your-api.mdx', 'Connect your API'],
  ['guides-recipes--docs', 'recipes.mdx', 'Recipes: progress, history, cancel, tracking, notifications'],
  ['guides-streamed-output--docs', 'streamed-output.mdx', 'Streamed output: tokens, log lines and previews'],
  ['guides-one-connection-per-browser--docs', 'tabs.mdx', 'One connection per browser'],
  ['guides-styling--docs', 'styling.mdx', 'Styling'],
  ['guides-testing--docs', 'testing.mdx', 'Testing with MSW and the memory backend'],
  ['guides-next-js-and-node-http--docs', 'server.mdx', 'Next.js and node:http'],
  ['guides-bullmq--docs', 'bullmq.mdx', 'Production: BullMQ'],
  ['guides-rest-contract--docs', 'rest-contract.mdx', 'The REST contract'],
];

/** Runs one group of checks; a group that throws fails on its own, and the next still runs. */
async function group(what, run) {
  try {
    await run();
  } catch (error) {
    check(false, `${what}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
}

/** What a person opening the catalogue sees: where it opens, the sidebar, a showcase, the docs tables. */
async function checkLooksFinished(page, base) {
  await group('the catalogue opens on the Introduction page', async () => {
    await page.goto(`${base}/`);
    await page.waitForURL(/\?path=\/docs\/introduction--docs/, { timeout: 15_000 });
    check(true, 'the catalogue opens on the Introduction page');
    const intro = page.frameLocator('#storybook-preview-iframe');
    await intro.getByRole('heading', { level: 1, name: /Live status of background jobs/ }).waitFor({ timeout: 15_000 });
    check(true, 'the Introduction page renders its heading');
    // Its links open the catalogue's own pages, in place.
    await intro.locator('a[href="?path=/docs/components-jobstatus--docs"]').first().click();
    await page.waitForURL(/\?path=\/docs\/components-jobstatus--docs/, { timeout: 15_000 });
    check(true, 'the Introduction page links to the components’ docs pages');
  });

  await group('the guides render', async () => {
    for (const [id, , heading] of GUIDES) {
      await page.goto(`${base}/iframe.html?id=${id}&viewMode=docs`);
      // (Storybook gives each MDX heading a "Copy heading URL" link, part of its accessible name.)
      const h1 = page.locator('#storybook-docs h1');
      await h1.first().waitFor({ timeout: 15_000 });
      const shown = (await h1.allInnerTexts()).map((text) => text.trim());
      check(shown.length === 1 && shown[0] === heading, `the guide ${id} renders its heading "${heading}" (${shown.join(' | ')})`);
    }
  });

  await group('the guides come right after the Introduction in the sidebar', async () => {
    await page.goto(`${base}/?path=/docs/guides-connect-your-api--docs`);
    const sidebar = page.locator('#storybook-explorer-tree');
    await sidebar.locator('[data-item-id="guides-rest-contract--docs"]').waitFor({ timeout: 15_000 });
    const order = await sidebar.locator('[data-item-id]').evaluateAll((items) => items.map((item) => item.dataset.itemId));
    const listed = order.filter((id) => id.startsWith('guides-') && id.endsWith('--docs'));
    check(
      JSON.stringify(listed) === JSON.stringify(GUIDES.map(([id]) => id)),
      `the sidebar lists the guides in order (${listed.join(', ')})`,
    );
    check(order.indexOf('introduction--docs') < order.indexOf('guides') && order.indexOf('guides') < order.indexOf('components'), 'Introduction, then Guides, then Components');
  });

  await group('a guide links to another guide', async () => {
    await page.goto(`${base}/?path=/docs/guides-connect-your-api--docs`);
    const guide = page.frameLocator('#storybook-preview-iframe');
    await guide.getByRole('link', { name: 'REST contract', exact: true }).first().click();
    await page.waitForURL(/\?path=\/docs\/guides-rest-contract--docs/, { timeout: 15_000 });
    check(true, 'a guide’s link opens another guide in the catalogue');
  });

  await group('the API reference opens from the Introduction', async () => {
    await page.goto(`${base}/?path=/docs/introduction--docs`);
    const intro = page.frameLocator('#storybook-preview-iframe');
    await intro.getByRole('link', { name: 'API reference' }).click();
    await page.waitForURL(/\/api\/index\.html$/, { timeout: 15_000 });
    await page.getByRole('heading', { level: 1, name: /jobwatch API reference/ }).waitFor({ timeout: 15_000 });
    check(true, 'the Introduction’s "API reference" link opens the generated reference');
    // Each package entry has its page, reachable from the index.
    await page.getByRole('link', { name: 'jobwatch/core', exact: true }).first().click();
    await page.getByRole('heading', { level: 1, name: /jobwatch\/core/ }).waitFor({ timeout: 15_000 });
    check(true, 'the reference links to the jobwatch/core module page');
  });

  await group('no onboarding checklist', async () => {
    // Storybook's onboarding UI: off by configuration (it only ever renders in `storybook dev`,
    // which reads the same flags), and nothing of it on screen.
    await page.goto(`${base}/?path=/story/examples-project-page--interactive`);
    const sidebar = page.locator('#storybook-explorer-tree');
    await sidebar.waitFor({ timeout: 15_000 });
    const features = await page.evaluate(() => window.FEATURES ?? {});
    check(
      features.sidebarOnboardingChecklist === false && features.menuOnboardingChecklist === false,
      'no onboarding checklist: features.sidebarOnboardingChecklist and menuOnboardingChecklist are off',
    );
    check(!/onboarding|get started|getting started|checklist/i.test(await page.locator('body').innerText()), 'the sidebar shows no onboarding checklist');
  });

  await group('test-only stories are not in the sidebar', async () => {
    // With the Project page open its group is expanded: the showcases are listed, the instrumented tests are not.
    const sidebar = page.locator('#storybook-explorer-tree');
    await sidebar.locator('[data-item-id="examples-project-page--interactive"]').waitFor({ timeout: 15_000 });
    const listed = await sidebar.locator('[data-item-id^="examples-project-page--"]').evaluateAll((items) => items.map((item) => item.dataset.itemId));
    check(
      listed.length === 2 && !listed.includes('examples-project-page--reload-mid-generation'),
      `test-only stories are not in the sidebar: the Project page lists its 2 showcases only (${listed.join(', ')})`,
    );
  });

  await group('the Project page has no debug text', async () => {
    await page.goto(`${base}/iframe.html?id=examples-project-page--interactive&viewMode=story`);
    await page.getByRole('heading', { level: 1, name: 'Autumn campaign' }).waitFor({ timeout: 15_000 });
    await page.getByRole('img', { name: 'Generated image: A lighthouse at dusk' }).waitFor({ timeout: 15_000 });
    const shown = await page.locator('#storybook-root').innerText();
    check(!/Page load|Tab storage/.test(shown), 'the Project page has no "Page load" debug text');
  });

  await group('docs tables give real defaults', async () => {
    await page.goto(`${base}/iframe.html?id=components-jobstatus--docs&viewMode=docs`);
    check((await defaultOf(page, 'pollInterval')) === '2000', 'JobStatus docs table: pollInterval defaults to 2000');
    check((await defaultOf(page, 'detailed')) === 'false', 'JobStatus docs table: detailed defaults to false');
    // Once its failed-job story has its answer, the page shows realistic content, no markup payload.
    await page.locator('#anchor--components-jobstatus--detailed-failed [data-state="failed"]').waitFor({ timeout: 15_000 });
    const docsText = await page.locator('#storybook-docs').innerText();
    check(docsText.includes('Retry 3 of 3') && !docsText.includes('onerror'), 'the JobStatus docs page shows realistic content, no markup payload');
    await page.goto(`${base}/iframe.html?id=components-pendingjobsbadge--docs&viewMode=docs`);
    check((await defaultOf(page, 'pollInterval')) === '5000', 'PendingJobsBadge docs table: pollInterval defaults to 5000');
  });
  await group('JobList docs table', async () => {
    await page.goto(`${base}/iframe.html?id=components-joblist--docs&viewMode=docs`);
    check((await defaultOf(page, 'refetchInterval')) === 'false', 'JobList docs table: refetchInterval defaults to false');
  });
}

let server;
let browser;
try {
  const started = Date.now();
  // The API reference first: .storybook/main.ts serves docs/api as the catalogue's api/.
  execFileSync('npx', ['typedoc', '--logLevel', 'Error'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(`API reference generated in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  execFileSync('npx', ['storybook', 'build', '--quiet', '-o', out], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(`catalogue built in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // The API reference is part of the catalogue, one page per package entry.
  check(existsSync(path.join(out, 'api/index.html')), 'the API reference is part of the catalogue (api/index.html)');
  for (const module of ['jobwatch', 'jobwatch_core', 'jobwatch_testing', 'jobwatch_server', 'jobwatch_server_node', 'jobwatch_msw', 'jobwatch_bullmq']) {
    check(existsSync(path.join(out, `api/modules/${module}.html`)), `API reference page api/modules/${module}.html`);
  }

  check(existsSync(path.join(out, 'mockServiceWorker.js')), 'the MSW worker is part of the catalogue');
  const index = JSON.parse(readFileSync(path.join(out, 'index.json'), 'utf8'));
  for (const id of ['components-jobstatus--docs', 'components-jobprogress--docs', 'components-pendingjobsbadge--docs', 'components-joblist--docs', 'components-joboutput--docs']) {
    check(index.entries[id]?.type === 'docs', `docs page ${id}`);
  }
  check(index.entries['introduction--docs']?.type === 'docs', 'the Introduction page is part of the catalogue');
  const guideFiles = readdirSync(path.join(root, 'stories/guides')).filter((file) => file.endsWith('.mdx')).sort();
  check(
    JSON.stringify(guideFiles) === JSON.stringify(GUIDES.map(([, file]) => file).sort()),
    `every guide in stories/guides is checked here (${guideFiles.join(', ')})`,
  );
  for (const [id] of GUIDES) check(index.entries[id]?.type === 'docs', `guide page ${id}`);
  // Every link of the Introduction and the guides leads somewhere: a catalogue entry, or a page of the API reference.
  for (const file of ['stories/Introduction.mdx', ...guideFiles.map((f) => `stories/guides/${f}`)]) {
    const text = readFileSync(path.join(root, file), 'utf8');
    const entries = [...text.matchAll(/\?path=\/(?:docs|story)\/([\w-]+)/g)].map((m) => m[1]);
    const pages = [...text.matchAll(/href="\.\/(api\/[^"#]+)/g)].map((m) => m[1]);
    const broken = [...entries.filter((id) => !index.entries[id]), ...pages.filter((page) => !existsSync(path.join(out, page)))];
    check(broken.length === 0, `the links of ${file} lead to pages that exist (${entries.length + pages.length} links${broken.length ? `; broken: ${broken.join(', ')}` : ''})`);
    // Only Markdown links to catalogue pages go through Storybook's link handling; an <a href="?path=…">
    // would load the page inside the preview frame instead of opening it in the catalogue.
    check(!/<a\s[^>]*href="\?path=/.test(text), `${file} links to catalogue pages with Markdown links, not <a href="?path=…">`);
  }
  // Instrumented variants exist for their play functions only: built, run by addon-vitest, never listed.
  const testOnly = Object.values(index.entries).filter((entry) => entry.type === 'story' && !entry.tags?.includes('dev'));
  check(
    testOnly.some((entry) => entry.id === 'examples-project-page--reload-mid-generation'),
    `test-only stories are built but tagged out of the sidebar (${testOnly.length})`,
  );
  check(
    testOnly.every((entry) => entry.tags.includes('test') && !entry.tags.includes('autodocs')),
    'test-only stories still run as tests and stay off the docs pages',
  );

  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let file = path.join(out, decodeURIComponent(url.pathname));
    if (!file.startsWith(out)) return void res.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await checkLooksFinished(page, `http://127.0.0.1:${port}`);

  await page.goto(`http://127.0.0.1:${port}/iframe.html?id=examples-project-page-over-http--generate-image-over-http&viewMode=story`);
  // The story's own play function clicks Generate and runs the flow over the
  // worker; its end state is the generated image in the images area.
  await page.getByRole('img', { name: 'Generated image: A fox in the snow' }).waitFor({ timeout: 30_000 });
  check(true, 'Project page over HTTP generates an image from plain files');
  const controlled = await page.evaluate(() => Boolean(navigator.serviceWorker?.controller));
  check(controlled, 'the MSW service worker controls the page');
  check(errors.length === 0, `no page errors${errors.length ? `: ${errors.join('; ')}` : ''}`);
} catch (error) {
  check(false, `catalogue check crashed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await browser?.close();
  server?.close();
  rmSync(out, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(`catalogue: ${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('catalogue: all checks passed');
