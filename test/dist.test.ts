// @vitest-environment node
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// `npm test` builds before running vitest; these check what `npm publish` would ship.
const dist = path.join(process.cwd(), 'dist');
const read = (file: string) => readFileSync(path.join(dist, file), 'utf8');
const require = createRequire(import.meta.url);

describe.runIf(existsSync(dist))('the built package', () => {
  it.each(['index', 'core', 'testing', 'server', 'server-node', 'msw', 'bullmq'])('emits ESM, CJS and types for the %s entry', (entry) => {
    for (const ext of ['.js', '.cjs', '.d.ts', '.d.cts']) {
      expect(existsSync(path.join(dist, entry + ext)), entry + ext).toBe(true);
    }
  });

  it('marks the React entry "use client" and leaves the server-safe entries alone', () => {
    expect(read('index.js').startsWith('"use client";')).toBe(true);
    expect(read('index.cjs').startsWith('"use client";')).toBe(true);
    expect(read('core.js')).not.toContain('use client');
    for (const entry of ['testing', 'server', 'server-node', 'msw']) expect(read(`${entry}.js`)).not.toContain('use client');
  });

  it('ships the stylesheet', () => {
    expect(read('styles.css')).toContain('.jobwatch-status');
  });

  it('keeps one error class per name across module formats and entries', async () => {
    const esmCore = await import(/* @vite-ignore */ pathToFileURL(path.join(dist, 'core.js')).href);
    const cjsCore = require(path.join(dist, 'core.cjs'));
    const cjsTesting = require(path.join(dist, 'testing.cjs'));
    const backend = cjsTesting.createMemoryJobBackend();
    const error = await backend.getStatus('missing').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(esmCore.JobNotFoundError);
    expect(error).toBeInstanceOf(cjsCore.JobNotFoundError);
    expect(error).toBeInstanceOf(esmCore.JobError);
    expect(error).not.toBeInstanceOf(esmCore.JobTransportError);
  });
});
