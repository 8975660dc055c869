// @vitest-environment node
/**
 * One connection per browser, in real Chromium: several pages of one origin (one browser
 * context, so one HTTP/1.1 connection pool) served by the project's own HTTP server
 * (tabs.server.ts), each rendering JobClientProvider + useJobStatus over createFetchJobClient.
 * What the tabs cost is counted on the server. Run: `npx vitest run --project tabs`.
 */
import type { Browser, BrowserContext, Page } from 'playwright';
import { launchChromium, OWNER, startTabServer } from './tabs.server';

type Server = Awaited<ReturnType<typeof startTabServer>>;

let browser: Browser;
let server: Server;
let context: BrowserContext;

beforeAll(async () => {
  server = await startTabServer();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});
beforeEach(async () => {
  context = await browser.newContext();
});
afterEach(async () => {
  await context.close();
});

const WAIT = { timeout: 15_000 };

async function openTabs(n: number, ids: string[], share?: 'none' | 'default'): Promise<Page[]> {
  const pages: Page[] = [];
  for (let i = 0; i < n; i++) {
    const page = await context.newPage();
    await page.goto(server.pageUrl(ids, share));
    pages.push(page);
  }
  return pages;
}

const shows = (page: Page, id: string, status: string) => page.waitForSelector(`[data-id="${id}"][data-status="${status}"]`, WAIT);
const showsAll = (pages: Page[], ids: string[], status: string) => Promise.all(pages.flatMap((p) => ids.map((id) => shows(p, id, status))));
const progressShown = (page: Page, id: string, progress: number) =>
  page.waitForSelector(`[data-id="${id}"][data-progress="${progress}"]`, WAIT);
const isLeader = (page: Page) => page.evaluate(() => window.jobwatchTest.leader);
const settledIn = (page: Page) => page.evaluate(() => ({ rows: window.jobwatchTest.settled, app: window.jobwatchTest.appSettled }));

async function leaderOf(pages: Page[]): Promise<Page> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const flags = await Promise.all(pages.map(isLeader));
    const leaders = pages.filter((_, i) => flags[i]);
    if (leaders.length === 1) return leaders[0]!;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no single leader among the tabs');
}

function processingJobs(n: number): string[] {
  return Array.from({ length: n }, () => {
    const job = server.backend.create({ owner: OWNER });
    server.backend.start(job.id);
    return job.id;
  });
}

/** Opens `n` tabs on 10 jobs, waits until all show them, then one update; returns what the server saw. */
async function cost(n: number, share?: 'none' | 'default') {
  const ids = processingJobs(10);
  server.resetCounts();
  const pages = await openTabs(n, ids, share);
  await showsAll(pages, ids, 'processing');
  server.backend.progress(ids[0]!, 0.5);
  await Promise.all(pages.map((p) => progressShown(p, ids[0]!, 0.5)));
  const seen = { requests: server.counts.requests, maxOpenStreams: server.counts.maxOpenStreams };
  await Promise.all(pages.map((p) => p.close()));
  return seen;
}

describe('tabs in real Chromium: one connection per browser', () => {
  it('five tabs cost what one tab costs: requests and event streams counted on the server', async () => {
    const one = await cost(1);
    const five = await cost(5);
    // Without sharing the same five tabs open five streams: what the check above would catch.
    const alone = await cost(5, 'none');
    expect(alone.maxOpenStreams).toBe(5);
    expect(one.maxOpenStreams).toBe(1);
    expect(five.maxOpenStreams).toBe(1);
    expect(five.requests).toBeLessThanOrEqual(Math.ceil(one.requests * 1.1));
  });

  it('the default (share unset) shares in a browser with BroadcastChannel and Web Locks', async () => {
    const five = await cost(5, 'default');
    expect(five.maxOpenStreams).toBe(1);
  });

  it('eight tabs on HTTP/1.1 all get updates (one stream, not one per tab)', async () => {
    const ids = processingJobs(3);
    const pages = await openTabs(8, ids);
    await showsAll(pages, ids, 'processing');
    server.backend.progress(ids[2]!, 0.25);
    await Promise.all(pages.map((p) => progressShown(p, ids[2]!, 0.25)));
    expect(server.counts.openStreams).toBe(1);
  });

  it('closing the leader mid-job: another tab takes over and shows the next update', async () => {
    const ids = processingJobs(2);
    const pages = await openTabs(3, ids);
    await showsAll(pages, ids, 'processing');
    const leader = await leaderOf(pages);
    await leader.close();
    const rest = pages.filter((p) => p !== leader);
    server.backend.progress(ids[1]!, 0.75);
    await Promise.all(rest.map((p) => progressShown(p, ids[1]!, 0.75)));
    expect(await leaderOf(rest)).toBeDefined();
    expect(server.counts.openStreams).toBe(1);
  });

  it('a hung leader (no heartbeat) is replaced: a follower steals the lead; the old one follows when it wakes', async () => {
    const ids = processingJobs(1);
    const pages = await openTabs(3, ids);
    await showsAll(pages, ids, 'processing');
    const leader = await leaderOf(pages);
    const rest = pages.filter((p) => p !== leader);
    // The leader's page is busy for 6 s: no heartbeat, no event, nothing (a hung or frozen tab).
    const hung = leader.evaluate(() => {
      const end = Date.now() + 6000;
      while (Date.now() < end);
    });
    await leaderOf(rest);
    server.backend.progress(ids[0]!, 0.5);
    await Promise.all(rest.map((p) => progressShown(p, ids[0]!, 0.5)));
    await hung;
    await progressShown(leader, ids[0]!, 0.5);
    server.backend.progress(ids[0]!, 0.6);
    await Promise.all(pages.map((p) => progressShown(p, ids[0]!, 0.6)));
    expect(await isLeader(leader)).toBe(false);
    expect(await leaderOf(pages)).not.toBe(leader);
  });

  it('a leader being frozen (freeze event) gives the lead up at once; a hidden tab still gets updates', async () => {
    const ids = processingJobs(1);
    const pages = await openTabs(3, ids);
    await showsAll(pages, ids, 'processing');
    const leader = await leaderOf(pages);
    const rest = pages.filter((p) => p !== leader);
    await rest[1]!.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await leader.evaluate(() => document.dispatchEvent(new Event('freeze')));
    expect(await isLeader(leader)).toBe(false);
    await leaderOf(rest);
    server.backend.progress(ids[0]!, 0.5);
    await Promise.all(rest.map((p) => progressShown(p, ids[0]!, 0.5)));
    await leader.evaluate(() => document.dispatchEvent(new Event('resume')));
    server.backend.progress(ids[0]!, 0.7);
    await Promise.all(pages.map((p) => progressShown(p, ids[0]!, 0.7)));
    expect(server.counts.openStreams).toBe(1);
  });

  it('a job settling while the leader changes: every tab shows it completed, callbacks once, onJobSettled once', async () => {
    const ids = processingJobs(1);
    const pages = await openTabs(3, ids);
    await showsAll(pages, ids, 'processing');
    const leader = await leaderOf(pages);
    const rest = pages.filter((p) => p !== leader);
    await leader.close();
    server.backend.complete(ids[0]!, { ok: true });
    await showsAll(rest, ids, 'completed');
    await new Promise((r) => setTimeout(r, 500));
    const settled = await Promise.all(rest.map(settledIn));
    for (const s of settled) expect(s.rows).toEqual([ids[0]]);
    expect(settled.flatMap((s) => s.app)).toEqual([ids[0]]);
  });
});
