import { copyFileSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';

const shared: Options = {
  format: ['esm', 'cjs'],
  dts: true,
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  target: 'es2022',
  // size-limit re-bundles dist/*.js: with the constants folded and inlined here, no leftover
  // top-level expression (e.g. `3 * HEARTBEAT_INTERVAL_MS`) survives its tree-shaking. Names stay readable.
  minifySyntax: true,
  // Every Object.freeze in src/ freezes a value it returns: marked pure, an unused frozen constant is dropped.
  pure: ['Object.freeze'],
  // Rollup tree-shaking strips "use client"; esbuild already drops what is unused.
  treeshake: false,
  external: ['react', 'react-dom', '@tanstack/react-query', 'clsx', 'msw', 'bullmq', 'ioredis'],
};

export default defineConfig([
  {
    ...shared,
    // The React entry: hooks and components are client modules. esbuild drops
    // "use client" from the sources, so the banner puts it back on every file.
    entry: { index: 'src/index.ts' },
    clean: true,
    banner: { js: '"use client";' },
    onSuccess: async () => {
      copyFileSync('src/styles.css', 'dist/styles.css');
    },
  },
  {
    ...shared,
    // Entries without React stay free of "use client" so servers can import them.
    entry: {
      core: 'src/core/index.ts',
      testing: 'src/testing/index.ts',
      server: 'src/server/index.ts',
      'server-node': 'src/server/node.ts',
      msw: 'src/msw/index.ts',
      bullmq: 'src/bullmq/index.ts',
    },
  },
]);
