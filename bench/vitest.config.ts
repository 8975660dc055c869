import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import BenchReporter from './reporter';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * `npm run bench`: what watching N jobs costs, jobwatch against the naive
 * per-component design. Kept out of `npm test`: it takes a minute or two and
 * its figures depend on the machine. Each measurement is a test that records
 * its figures; bench/reporter.ts prints them against their targets and
 * writes bench/results.json. Files run one at a time, each in its own process,
 * so measurements do not compete for cores.
 */
export default defineConfig({
  root,
  resolve: {
    alias: [
      { find: /^jobwatch$/, replacement: path.join(root, 'src/index.ts') },
      { find: /^jobwatch\/core$/, replacement: path.join(root, 'src/core/index.ts') },
      { find: /^jobwatch\/testing$/, replacement: path.join(root, 'src/testing/index.ts') },
    ],
  },
  // react/jsx-runtime works with both React builds (jsx-dev-runtime is empty in production).
  oxc: { jsx: { runtime: 'automatic', development: false } },
  test: {
    environment: 'jsdom',
    globals: true,
    // global.gc for the memory figures.
    execArgv: ['--expose-gc'],
    fileParallelism: false,
    testTimeout: 180_000,
    reporters: ['default', new BenchReporter()],
    projects: [
      {
        // Counts (requests, renders) under act() with fake timers, which needs React's development build.
        extends: true,
        test: { name: 'dev', include: ['bench/requests.bench.tsx', 'bench/renders.bench.tsx', 'bench/latency.bench.tsx', 'bench/output.throughput.bench.tsx'] },
      },
      {
        // Timings and heap as shipped: React's production build, real timers.
        extends: true,
        test: { name: 'prod', include: ['bench/latency.bench.tsx', 'bench/memory.bench.tsx', 'bench/output.throughput.bench.tsx', 'bench/output.latency.bench.tsx', 'bench/output.resume.bench.ts', 'bench/output.memory.bench.tsx'], env: { NODE_ENV: 'production' } },
      },
      {
        // Bundle sizes: size-limit on dist/, which the bench script builds first.
        extends: true,
        test: { name: 'size', include: ['bench/size.bench.ts'] },
      },
    ],
  },
});
