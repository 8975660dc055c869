/**
 * The project's own HTTP server for the tab-sharing browser tests and bench: createJobHandler
 * over the memory backend (jobwatch/server/node's toNodeListener on node:http, HTTP/1.1), plus
 * the fixture page bundled with esbuild. Counts what tabs cost it: requests and event streams.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright';
import { createJobHandler } from '../../src/server';
import { toNodeListener } from '../../src/server/node';
import { createMemoryJobBackend } from '../../src/testing';
import { findChromium } from '../setup/findTools.mjs';
import { listenOnLoopback } from '../support/loopback';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const OWNER = 'tab-user';

/** Bundles the fixture page (React, jobwatch from the sources). */
async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [path.join(root, 'test/browser/tabs.fixture.tsx')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    alias: { jobwatch: path.join(root, 'src/index.ts') },
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** Starts the server on 127.0.0.1 (a random port). */
export async function startTabServer() {
  const backend = createMemoryJobBackend();
  const script = await bundle();
  const handler = createJobHandler({ store: backend, basePath: '/api/jobs', authorize: () => ({ owner: OWNER }) });
  const counts = { requests: 0, streams: 0, openStreams: 0, maxOpenStreams: 0 };
  const api = toNodeListener(handler);
  const { origin, close } = await listenOnLoopback((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('<!doctype html><meta charset="utf-8"><title>tabs</title><div id="root"></div><script type="module" src="/app.js"></script>');
    }
    if (url.pathname === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return res.end(script);
    }
    if (url.pathname.startsWith('/api/jobs/events')) {
      counts.streams += 1;
      counts.openStreams += 1;
      counts.maxOpenStreams = Math.max(counts.maxOpenStreams, counts.openStreams);
      res.on('close', () => (counts.openStreams -= 1));
    } else if (url.pathname.startsWith('/api/jobs')) counts.requests += 1;
    void api(req, res);
  });
  return {
    backend,
    counts,
    origin,
    /** The page's URL watching `ids`. */
    pageUrl: (ids: string[], share?: 'none' | 'default', push = true) =>
      `${origin}/?ids=${ids.map(encodeURIComponent).join(',')}${share ? `&share=${share}` : ''}${push ? '' : '&push=off'}`,
    resetCounts() {
      counts.requests = 0;
      counts.streams = 0;
      counts.maxOpenStreams = counts.openStreams;
    },
    close,
  };
}

/** Launches Debian's Chromium (never downloaded); fails with the command to run when it is missing. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) {
    throw new Error(
      'Chromium not found. Install it (`sudo apt-get install chromium`) or point CHROMIUM_PATH at it: CHROMIUM_PATH=/path/to/chromium npx vitest run --project tabs',
    );
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
