// @vitest-environment node
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from './shared';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** One entry of size-limit's `--json` answer. */
interface SizeResult {
  name: string;
  size: number;
  sizeLimit: number;
  passed: boolean;
}

/**
 * The first size targets, in bytes (size-limit's kB are 1,000 bytes), by
 * size-limit entry name. Each entry is now held to its budget in
 * `.size-limit.json` instead: see "Bundle size" in the README for why.
 */
const FIRST_TARGETS: Record<string, number> = {
  'jobwatch (everything)': 6_000,
  'useJobStatus + JobClientProvider': 4_000,
  'jobwatch/core': 4_000,
};

const kB = (size: number) => `${(size / 1000).toFixed(2)} kB`;

describe('size (min+gzip, peers excluded)', () => {
  it('every size-limit entry against its budget', ({ task }) => {
    // The bench script builds first; size-limit measures dist/ as published.
    expect(existsSync(path.join(root, 'dist/index.js'))).toBe(true);
    const bin = path.join(root, 'node_modules/.bin/size-limit');
    const out = execFileSync(bin, ['--json'], { cwd: root, encoding: 'utf8' });
    const results = JSON.parse(out.slice(out.indexOf('['))) as SizeResult[];
    const configured = JSON.parse(readFileSync(path.join(root, '.size-limit.json'), 'utf8')) as unknown[];
    expect(results).toHaveLength(configured.length);

    const rows: BenchRow[] = results.map((r) => {
      const first = FIRST_TARGETS[r.name];
      return {
        measurement: 'bundle size, min+gzip',
        variant: r.name,
        figure: kB(r.size),
        target: `≤ ${kB(r.sizeLimit)} budget${first ? ` (first set: ${kB(first)}, ${r.size <= first ? 'met' : 'not met'})` : ''}`,
        pass: r.size <= r.sizeLimit,
      };
    });
    task.meta.bench = { section: 'size', key: 'all', rows, data: { results, firstTargets: FIRST_TARGETS } };
  });
});
