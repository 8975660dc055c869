// The static catalogue works from plain files: `storybook build` into a temp
// folder, serve it with a bare static file server on 127.0.0.1, and run the
// "Project page over HTTP" story (fetch client -> MSW worker -> handler ->
// in-memory backend) in headless Chromium. Also checks the MSW worker is
// shipped and each component has its generated docs page.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
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

let server;
let browser;
try {
  const started = Date.now();
  execFileSync('npx', ['storybook', 'build', '--quiet', '-o', out], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(`catalogue built in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  check(existsSync(path.join(out, 'mockServiceWorker.js')), 'the MSW worker is part of the catalogue');
  const index = JSON.parse(readFileSync(path.join(out, 'index.json'), 'utf8'));
  for (const id of ['components-jobstatus--docs', 'components-jobprogress--docs', 'components-pendingjobsbadge--docs']) {
    check(index.entries[id]?.type === 'docs', `docs page ${id}`);
  }

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
