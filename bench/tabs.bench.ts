/**
 * One connection per browser, measured in real Chromium (`npm run bench:tabs`): 1, 2, 5 and 8
 * tabs of one origin watching the same 50 jobs, served by the project's own HTTP server
 * (test/browser/tabs.server.ts). Counted on the server: requests per 2 s poll interval and
 * open event streams, over the event stream (push) and with polling only, while all tabs show
 * the jobs, and the requests it took until they all did (mount). Then the handover gap: the
 * leader tab closed → the next update shown in another tab, and a job completing
 * during the handover shown completed. Prints its figures against their targets (a missed
 * target is reported, not failed on) and hands them to bench/reporter.ts as section `tabs`.
 */
import type { Browser, Page } from 'playwright';
import { launchChromium, OWNER, startTabServer } from '../test/browser/tabs.server';
import type { BenchRow } from './shared';

const INTERVAL_MS = 2000;
const WINDOW_MS = 10_000;
const JOBS = 50;
const TAB_COUNTS = [1, 2, 5, 8];
const WAIT = { timeout: 30_000 };

type Server = Awaited<ReturnType<typeof startTabServer>>;
let server: Server;
let browser: Browser;

beforeAll(async () => {
  server = await startTabServer();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const leaderFlag = (page: Page) => page.evaluate(() => window.jobwatchTest.leader);

function processingJobs(n: number): string[] {
  return Array.from({ length: n }, () => {
    const job = server.backend.create({ owner: OWNER });
    server.backend.start(job.id);
    return job.id;
  });
}

/** Requests per interval and open streams while `tabs` tabs watch 50 jobs for WINDOW_MS (after they all show them). */
async function steadyCost(tabs: number, push: boolean) {
  const context = await browser.newContext();
  const ids = processingJobs(JOBS);
  server.resetCounts();
  const pages: Page[] = [];
  for (let i = 0; i < tabs; i++) {
    const page = await context.newPage();
    await page.goto(server.pageUrl(ids, undefined, push));
    pages.push(page);
  }
  await Promise.all(pages.map((p) => p.waitForFunction((n) => document.querySelectorAll('[data-status="processing"]').length === n, JOBS, WAIT)));
  const mountRequests = server.counts.requests;
  server.resetCounts();
  const started = Date.now();
  for (let t = 0; t < WINDOW_MS; t += 1000) {
    server.backend.progress(ids[(t / 1000) % JOBS]!, (t / WINDOW_MS) % 1);
    await sleep(1000);
  }
  const elapsed = Date.now() - started;
  const figures = {
    mountRequests,
    requestsPerInterval: (server.counts.requests * INTERVAL_MS) / elapsed,
    openStreams: server.counts.openStreams,
    maxOpenStreams: server.counts.maxOpenStreams,
  };
  await context.close();
  return figures;
}

/** Leader closed at t0 with an update at t0: ms until another tab shows it; and a completion during a handover. */
async function handover(push: boolean) {
  const context = await browser.newContext();
  const ids = processingJobs(2);
  const pages: Page[] = [];
  for (let i = 0; i < 3; i++) {
    const page = await context.newPage();
    await page.goto(server.pageUrl(ids, undefined, push));
    pages.push(page);
  }
  await Promise.all(pages.map((p) => p.waitForSelector(`[data-id="${ids[1]}"][data-status="processing"]`, WAIT)));
  await sleep(500);
  const flags = await Promise.all(pages.map(leaderFlag));
  const leader = pages[flags.indexOf(true)]!;
  const rest = pages.filter((p) => p !== leader);
  // Polling: the update is made as the leader closes, so only the next leader can read it (the
  // gap is the handover itself, not a poll interval). Push: made once it is closed (the new
  // leader's stream sends current states on connect).
  const t0 = Date.now();
  if (!push) server.backend.progress(ids[0]!, 0.5);
  await leader.close();
  if (push) server.backend.progress(ids[0]!, 0.5);
  await Promise.all(rest.map((p) => p.waitForSelector(`[data-id="${ids[0]}"][data-progress="0.5"]`, WAIT)));
  const gapMs = Date.now() - t0;
  // A second handover with the job completing at the same moment: shown completed, settled once per hook.
  const flags2 = await Promise.all(rest.map(leaderFlag));
  const leader2 = rest[flags2.indexOf(true)] ?? rest[0]!;
  const last = rest.filter((p) => p !== leader2);
  await leader2.close();
  server.backend.complete(ids[1]!);
  await Promise.all(last.map((p) => p.waitForSelector(`[data-id="${ids[1]}"][data-status="completed"]`, WAIT)));
  const settled = await Promise.all(last.map((p) => p.evaluate(() => window.jobwatchTest.settled.length)));
  await context.close();
  return { gapMs, terminalShown: true, settledOncePerHook: settled.every((n) => n === 1) };
}

it('tabs: requests, streams and handover gap in real Chromium', async ({ task }) => {
  const rows: BenchRow[] = [];
  const data: Record<string, unknown> = {};
  for (const push of [true, false]) {
    const mode = push ? 'push' : 'poll';
    const cost: Record<number, Awaited<ReturnType<typeof steadyCost>>> = {};
    for (const n of TAB_COUNTS) cost[n] = await steadyCost(n, push);
    data[mode] = cost;
    const one = cost[1]!;
    for (const n of TAB_COUNTS) {
      const c = cost[n]!;
      const requestsOk = c.requestsPerInterval <= Math.max(one.requestsPerInterval * 1.1, one.requestsPerInterval + 0.2);
      rows.push({
        measurement: `tabs: requests per ${INTERVAL_MS} ms, ${JOBS} jobs`,
        variant: `${mode}, ${n} tab${n > 1 ? 's' : ''}`,
        figure: c.requestsPerInterval.toFixed(2),
        target: n === 1 ? '—' : `≤ 1.1 × 1 tab (${(one.requestsPerInterval * 1.1).toFixed(2)})`,
        pass: n === 1 ? null : requestsOk,
      });
      rows.push({
        measurement: `tabs: requests until every tab shows the ${JOBS} jobs`,
        variant: `${mode}, ${n} tab${n > 1 ? 's' : ''}`,
        figure: `${c.mountRequests}`,
        target: n === 1 ? '—' : `≤ 1.1 × 1 tab (${(one.mountRequests * 1.1).toFixed(1)})`,
        pass: n === 1 ? null : c.mountRequests <= Math.ceil(one.mountRequests * 1.1),
      });
      if (push) {
        rows.push({
          measurement: 'tabs: open event streams',
          variant: `${n} tab${n > 1 ? 's' : ''}`,
          figure: `${c.maxOpenStreams}`,
          target: '1',
          pass: c.maxOpenStreams === 1,
        });
      }
    }
    const h = await handover(push);
    data[`handover-${mode}`] = h;
    rows.push({
      measurement: 'tabs: handover gap (leader closed → next update shown)',
      variant: mode,
      figure: `${h.gapMs} ms`,
      target: `≤ ${INTERVAL_MS} ms, terminal shown, callbacks once`,
      pass: h.gapMs <= INTERVAL_MS && h.terminalShown && h.settledOncePerHook,
    });
  }
  task.meta.bench = { section: 'tabs', key: 'all', rows, data };
  const width = Math.max(...rows.map((r) => r.measurement.length + r.variant.length + 3));
  console.log(
    ['', 'tabs — figures against their targets (a missed target is reported, not failed on)', '']
      .concat(rows.map((r) => `${`${r.measurement} · ${r.variant}`.padEnd(width)}  ${r.figure.padEnd(10)} ${r.target.padEnd(44)} ${r.pass === null ? '—' : r.pass ? 'PASS' : 'FAIL'}`))
      .join('\n'),
  );
});
