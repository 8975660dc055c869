import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * bench/tabs.bench.ts: one connection per browser, in real Chromium (Node drives the pages
 * with Playwright) against the project's HTTP server on 127.0.0.1. Not part of `npm test`.
 * Run: `npx vitest run --config bench/tabs.vitest.config.ts`.
 */
export default defineConfig({
  root,
  test: {
    environment: 'node',
    globals: true,
    include: ['bench/tabs.bench.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});
