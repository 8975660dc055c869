import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * `npm run bench:load`: bench/load.bench.ts, the server handler on a real
 * node:http server on 127.0.0.1 under 1,000 SSE subscribers and 200 status
 * requests/s for 30 s. Not part of `npm test` or `npm run bench`. One file,
 * one process; fails (non-zero exit) when a subscriber missed a terminal event.
 */
export default defineConfig({
  root,
  resolve: {
    alias: [
      { find: /^jobwatch\/core$/, replacement: path.join(root, 'src/core/index.ts') },
      { find: /^jobwatch\/testing$/, replacement: path.join(root, 'src/testing/index.ts') },
      { find: /^jobwatch\/server$/, replacement: path.join(root, 'src/server/index.ts') },
    ],
  },
  test: {
    environment: 'node',
    globals: true,
    include: ['bench/load.bench.ts'],
    // global.gc for the end-of-run heap figure.
    execArgv: ['--expose-gc'],
    fileParallelism: false,
    testTimeout: 120_000,
  },
});
