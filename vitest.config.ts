import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { storybookTest } from '@storybook/addon-vitest/vitest-plugin';
import react from '@vitejs/plugin-react';
import { playwright } from '@vitest/browser-playwright';
import { configDefaults, defineConfig } from 'vitest/config';
import { findChromium } from './test/setup/findTools.mjs';

const dirname = path.dirname(fileURLToPath(import.meta.url));

// The README's examples import the package by its public name; tests resolve it to the sources.
const packageAliases = [
  { find: /^jobwatch$/, replacement: path.join(dirname, 'src/index.ts') },
  { find: /^jobwatch\/core$/, replacement: path.join(dirname, 'src/core/index.ts') },
  { find: /^jobwatch\/testing$/, replacement: path.join(dirname, 'src/testing/index.ts') },
  { find: /^jobwatch\/server$/, replacement: path.join(dirname, 'src/server/index.ts') },
  { find: /^jobwatch\/server\/node$/, replacement: path.join(dirname, 'src/server/node.ts') },
  { find: /^jobwatch\/msw$/, replacement: path.join(dirname, 'src/msw/index.ts') },
  { find: /^jobwatch\/bullmq$/, replacement: path.join(dirname, 'src/bullmq/index.ts') },
  { find: /^jobwatch\/styles\.css$/, replacement: path.join(dirname, 'src/styles.css') },
];

// Deps that stories may pull in only when installed (msw is optional here).
// Listing a dep Vite cannot resolve only produces a warning, but keep the list
// honest: add these only when the package is present.
const ifInstalled = (pkg: string, ids: string[]): string[] =>
  existsSync(path.join(dirname, 'node_modules', pkg, 'package.json')) ? ids : [];

/**
 * Headless Debian Chromium (apt-get install chromium); browsers are never downloaded. Found as the
 * pretest check (test/setup/ensureTools.mjs) finds it: CHROMIUM_PATH, else PATH and the usual places.
 * A new object per project: vitest names its instances in place.
 */
const chromium = () => ({
  enabled: true,
  headless: true,
  provider: playwright({
    launchOptions: {
      executablePath: findChromium() ?? '/usr/bin/chromium',
      // Needed to run as root in containers; the rest keeps Chromium quiet and offline.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  }),
  instances: [{ browser: 'chromium' as const }],
});

/** A public folder holding msw 3's own worker script, copied from the installed package. */
function msw3PublicDir(): string {
  const dir = path.join(dirname, 'node_modules/.cache/jobwatch-msw3-public');
  const worker = path.join(dirname, 'node_modules/msw3/lib/mockServiceWorker.js');
  if (existsSync(worker)) {
    mkdirSync(dir, { recursive: true });
    copyFileSync(worker, path.join(dir, 'mockServiceWorker.js'));
  }
  return dir;
}

export default defineConfig({
  test: {
    projects: [
      {
        // Hooks, core and components in jsdom: `vitest run --project unit`.
        plugins: [react()],
        resolve: { alias: packageAliases },
        test: {
          name: 'unit',
          environment: 'jsdom',
          globals: true,
          include: ['test/**/*.test.{ts,tsx}', 'examples/**/*.test.{ts,tsx}'],
          // Browser-only tests run in their own Chromium project below.
          exclude: [...configDefaults.exclude, 'test/browser/**'],
          restoreMocks: true,
        },
      },
      {
        // Every story's play function as a test in real headless Chromium:
        // `vitest run --project storybook`. Stories come from .storybook/main.ts.
        extends: true,
        plugins: [storybookTest({ configDir: path.join(dirname, '.storybook') })],
        // Pre-bundle everything stories reach, so a cold cache
        // (node_modules/.cache/storybook/*/sb-vitest) never hits
        // "optimized dependencies changed. reloading" mid-run.
        optimizeDeps: {
          include: [
            'react',
            'react/jsx-runtime',
            'react/jsx-dev-runtime',
            'react-dom',
            'react-dom/client',
            '@tanstack/react-query',
            'clsx',
            'storybook/test',
            ...ifInstalled('msw', ['msw', 'msw/browser']),
          ],
        },
        test: {
          name: 'storybook',
          browser: chromium(),
        },
      },
      {
        // Tab sharing in real Chromium: Node drives several pages (Playwright) against the
        // project's own HTTP server: `vitest run --project tabs`.
        resolve: { alias: packageAliases },
        test: {
          name: 'tabs',
          environment: 'node',
          globals: true,
          include: ['test/browser/tabs.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // jobwatch/msw against msw 3 in the browser (msw 3 needs Node 22, so not in Node):
        // `msw` resolves to the msw3 alias package, and its own worker script is served.
        plugins: [react()],
        publicDir: msw3PublicDir(),
        resolve: {
          alias: [
            { find: /^msw$/, replacement: path.join(dirname, 'node_modules/msw3/lib/core/index.js') },
            { find: /^msw\/browser$/, replacement: path.join(dirname, 'node_modules/msw3/lib/browser/index.js') },
          ],
        },
        test: {
          name: 'msw3',
          globals: true,
          include: ['test/browser/**/*.browser.test.ts'],
          browser: chromium(),
        },
      },
    ],
  },
});
