import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { storybookTest } from '@storybook/addon-vitest/vitest-plugin';
import react from '@vitejs/plugin-react';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';

const dirname = path.dirname(fileURLToPath(import.meta.url));

// The README's examples import the package by its public name; tests resolve it to the sources.
const packageAliases = [
  { find: /^jobwatch$/, replacement: path.join(dirname, 'src/index.ts') },
  { find: /^jobwatch\/core$/, replacement: path.join(dirname, 'src/core/index.ts') },
  { find: /^jobwatch\/testing$/, replacement: path.join(dirname, 'src/testing/index.ts') },
  { find: /^jobwatch\/server$/, replacement: path.join(dirname, 'src/server/index.ts') },
  { find: /^jobwatch\/msw$/, replacement: path.join(dirname, 'src/msw/index.ts') },
  { find: /^jobwatch\/styles\.css$/, replacement: path.join(dirname, 'src/styles.css') },
];

// Deps that stories may pull in only when installed (msw is optional here).
// Listing a dep Vite cannot resolve only produces a warning, but keep the list
// honest: add these only when the package is present.
const ifInstalled = (pkg: string, ids: string[]): string[] =>
  existsSync(path.join(dirname, 'node_modules', pkg, 'package.json')) ? ids : [];

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
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: {
                // Debian's chromium (apt-get install chromium); never download browsers.
                executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
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
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
