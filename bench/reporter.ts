import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Reporter, TestModule } from 'vitest/node';
import type { BenchRow, BenchSection } from './shared';

const SECTIONS = ['requests', 'renders', 'latency', 'memory', 'output', 'size'] as const;
const resultsPath = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results.json');
const require = createRequire(import.meta.url);
const versionOf = (name: string): string => (require(`${name}/package.json`) as { version: string }).version;

/** Lays rows out as a plain-text table (console.table's index column and quoting get in the way). */
function formatTable(rows: BenchRow[]): string {
  const header = ['measurement', 'variant', 'figure', 'target', 'result'];
  const cells = rows.map((row) => [
    row.measurement,
    row.variant,
    row.figure,
    row.target,
    row.pass === null ? '—' : row.pass ? 'PASS' : 'FAIL',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i]!)).join(' │ ').trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('─┼─');
  return [line(header), rule, ...cells.map(line)].join('\n');
}

/**
 * Collects what each bench test put in `task.meta.bench`, prints one table of
 * figures against their targets, and writes bench/results.json. A missed
 * target is reported, never failed on; a crashed measurement fails the run
 * (vitest's own exit code) and shows as ERROR here.
 */
export default class BenchReporter implements Reporter {
  private startedAt = Date.now();

  onTestRunStart(): void {
    this.startedAt = Date.now();
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const collected: Array<BenchSection & { durationMs: number }> = [];
    const failures: BenchRow[] = [];
    for (const module of testModules) {
      const moduleErrors = module.errors();
      if (moduleErrors.length > 0) {
        const name = path.relative(process.cwd(), module.moduleId);
        failures.push({ measurement: name, variant: '', figure: `ERROR: ${moduleErrors[0]!.message}`, target: '', pass: false });
      }
      for (const test of module.children.allTests()) {
        const bench = test.meta().bench;
        const durationMs = Math.round(test.diagnostic()?.duration ?? 0);
        if (test.result().state === 'failed' || !bench) {
          const message = test.result().errors?.[0]?.message ?? 'no figures recorded';
          failures.push({ measurement: test.fullName, variant: '', figure: `ERROR: ${message}`, target: '', pass: false });
          continue;
        }
        collected.push({ ...bench, durationMs });
      }
    }

    const rows: BenchRow[] = [];
    const meta = {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
      cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
      react: versionOf('react'),
      reactQuery: versionOf('@tanstack/react-query'),
      jsdom: versionOf('jsdom'),
      vitest: versionOf('vitest'),
      totalMs: Date.now() - this.startedAt,
      complete: failures.length === 0 && SECTIONS.every((section) => collected.some((c) => c.section === section)),
    };
    const results: Record<string, unknown> = { meta };
    for (const section of SECTIONS) {
      const parts = collected.filter((c) => c.section === section);
      const data: Record<string, unknown> = {};
      for (const part of parts) {
        data[part.key] = { ...part.data, durationMs: part.durationMs };
        rows.push(...part.rows);
      }
      results[section] = data;
    }
    rows.push(...failures);
    results.table = rows;
    writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);

    const passed = rows.filter((r) => r.pass === true).length;
    const judged = rows.filter((r) => r.pass !== null).length;
    console.log(
      [
        '',
        'jobwatch bench — figures against their targets (a missed target is reported, not failed on)',
        `${meta.date} · node ${meta.node} · ${meta.platform} · ${meta.cpus} · React ${meta.react} · jsdom ${meta.jsdom}`,
        '',
        formatTable(rows),
        '',
        'Notes:',
        '- requests: "reads" = getStatus + getStatuses calls; a "round" is one moment with reads. The',
        '  request targets are judged on rounds: getStatuses takes at most 100 ids (maxBatchSize), so',
        '  one round for N = 500 is 5 calls. Push: "initial" rounds fall in the first 4 s (mount window',
        '  + one interval); the rest are safety rounds. "first answer": mount → first read or push.',
        '  Poll: first reads during the 2 s mount spread go out at most one per 50 ms batching window',
        '  (semantic 12), so the spread is judged on its own; rounds after it as one per interval.',
        '- requests and renders run React\'s development build under act() with fake timers;',
        '  latency runs both builds on real timers; memory runs the production build.',
        '- size: size-limit on the freshly built dist/, as `npm run size` measures it (kB = 1,000 bytes).',
        '- output: streamed output (`<JobOutput>`): throughput in both builds (commits counted by Profiler in the',
        '  development build only), latency and resume over real HTTP on 127.0.0.1, memory in the production build.',
        `- ${passed} of ${judged} targets met · ${(meta.totalMs / 1000).toFixed(1)} s · written to ${path.relative(process.cwd(), resultsPath)}`,
        '',
      ].join('\n'),
    );
  }
}
