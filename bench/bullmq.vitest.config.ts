import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * `npm run bench:bullmq`: bench/bullmq.bench.ts, the BullMQ store against a real
 * redis-server it starts itself (Debian's redis-server on a unix socket in a temp
 * dir), at 1k, 10k and 50k jobs over 100 owners. Not part of `npm test` or
 * `npm run bench`. Prints one table; fails only when a measurement crashes.
 */
export default defineConfig({
  root,
  test: {
    environment: 'node',
    globals: true,
    include: ['bench/bullmq.bench.ts'],
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 30_000,
  },
});
