import { describe, expect, it, vi } from 'vitest';
import { JobNotFoundError, JobRequestError } from '../../src/contract/errors';
import { parseOutputPage, parseOutputParts } from '../../src/contract/output';
import type { JobOutputInput, JobOutputListener, JobOutputPart, JobStore } from '../../src/contract/types';

/**
 * Output controls of a store under test (optional in a fixture: without them the output
 * section is skipped). A fixture that gives them must also give `store.readOutput` and
 * `store.subscribeOutput`.
 */
export interface JobStoreConformanceOutputControls {
  /** Appends a part to a processing job's output, as the job's producer would. */
  appendOutput(id: string, part: JobOutputInput): Promise<void>;
  /** The store's parts-per-job limit when the fixture set a small one (at least 8: the paging test appends 7 parts); without it the trimming test is skipped. */
  maxParts?: number;
}

/** What a test of the output section needs, read when it runs (the fixture is made per test). */
export interface OutputConformanceContext {
  /** The store under test. */
  store: JobStore;
  /** The fixture's job controls (as in `JobStoreConformanceControls`). */
  controls: {
    create(spec: { owner: string }): Promise<string>;
    start(id: string): Promise<void>;
    complete(id: string, result?: unknown): Promise<void>;
    fail(id: string, message: string): Promise<void>;
  };
  /** The fixture's output controls, when it has them. */
  output: JobStoreConformanceOutputControls | undefined;
}

const ALICE = { owner: 'alice' };
const BOB = { owner: 'bob' };
/** How long "nothing more arrives" is watched for. */
const QUIET_MS = 100;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const seqs = (parts: JobOutputPart[]) => parts.map((part) => part.seq);
const text = (t: string): JobOutputInput => ({ kind: 'text', text: t });

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

/** Records what an output subscription delivers. */
function outputRecorder() {
  const parts: JobOutputPart[] = [];
  const errors: unknown[] = [];
  let dones = 0;
  let afterDone = 0;
  const listener: JobOutputListener = {
    next(delivered, info) {
      if (dones > 0) afterDone += 1;
      parts.push(...parseOutputParts(delivered));
      if (info?.done) dones += 1;
    },
    error(e) {
      errors.push(e);
    },
  };
  return { parts, errors, listener, dones: () => dones, afterDone: () => afterDone };
}

/**
 * The output section of the JobStore conformance suite (`readOutput`, `subscribeOutput`):
 * paging, `done`, trimming, owner scoping and push without duplicates. Each test skips
 * itself unless the fixture gives output controls.
 */
export function describeOutputConformance(context: () => OutputConformanceContext): void {
  describe('output (optional: fixtures with output controls)', () => {
    /** The store and controls, or `null` (the test skips) when the fixture has no output controls. */
    function setup() {
      const { store, controls, output } = context();
      if (!output) return null;
      const { readOutput, subscribeOutput } = store;
      if (!readOutput || !subscribeOutput) throw new Error('a fixture with output controls needs store.readOutput and store.subscribeOutput');
      return { store, controls, output, readOutput, subscribeOutput };
    }

    /** A processing job of alice with `count` text parts t1, t2, … */
    async function jobWithParts(s: NonNullable<ReturnType<typeof setup>>, count: number): Promise<string> {
      const id = await s.controls.create(ALICE);
      await s.controls.start(id);
      for (let i = 1; i <= count; i++) await s.output.appendOutput(id, text(`t${i}`));
      return id;
    }

    it('reads parts after `after`, at most `limit`, and pages through them without gaps or duplicates', async (ctx) => {
      const s = setup();
      if (!s) return ctx.skip();
      const id = await jobWithParts(s, 7);
      const all = parseOutputPage(await s.readOutput(id, { ...ALICE }));
      expect(seqs(all.parts)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(all.parts.map((part) => part.text)).toEqual(['t1', 't2', 't3', 't4', 't5', 't6', 't7']);
      expect(all).toMatchObject({ done: false });
      expect(all.trimmed ?? false).toBe(false);
      expect(seqs(parseOutputPage(await s.readOutput(id, { ...ALICE, after: 2, limit: 3 })).parts)).toEqual([3, 4, 5]);
      const pages: number[][] = [];
      let after = 0;
      for (let i = 0; i < 10; i++) {
        const page = parseOutputPage(await s.readOutput(id, { ...ALICE, after, limit: 3 }));
        if (page.parts.length === 0) break;
        pages.push(seqs(page.parts));
        after = page.parts[page.parts.length - 1]!.seq;
      }
      expect(pages).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
      expect(parseOutputPage(await s.readOutput(id, { ...ALICE, after: 7 }))).toEqual({ parts: [], done: false });
    });

    it('says done once the job is terminal and the page holds its last part', async (ctx) => {
      const s = setup();
      if (!s) return ctx.skip();
      const id = await jobWithParts(s, 3);
      await s.controls.complete(id, 'ok');
      expect(parseOutputPage(await s.readOutput(id, { ...ALICE, limit: 2 })).done).toBe(false);
      expect(parseOutputPage(await s.readOutput(id, { ...ALICE, after: 2 }))).toMatchObject({ parts: [{ seq: 3 }], done: true });
      expect(parseOutputPage(await s.readOutput(id, { ...ALICE, after: 3 }))).toEqual({ parts: [], done: true });
      const quiet = await s.controls.create(ALICE);
      await s.controls.fail(quiet, 'Boom');
      expect(parseOutputPage(await s.readOutput(quiet, ALICE))).toEqual({ parts: [], done: true });
    });

    it('answers the parts it kept with trimmed when older ones were trimmed', async (ctx) => {
      const s = setup();
      if (!s || s.output.maxParts === undefined) return ctx.skip();
      const max = s.output.maxParts;
      const id = await jobWithParts(s, max + 2);
      const page = parseOutputPage(await s.readOutput(id, ALICE));
      expect(page.trimmed).toBe(true);
      expect(page.parts.length).toBeLessThanOrEqual(max);
      expect(page.parts[0]!.seq).toBeGreaterThan(1);
      expect(page.parts[page.parts.length - 1]!.seq).toBe(max + 2);
      const recent = parseOutputPage(await s.readOutput(id, { ...ALICE, after: max + 1 }));
      expect(seqs(recent.parts)).toEqual([max + 2]);
      expect(recent.trimmed ?? false).toBe(false);
    });

    it('rejects an unknown or another owner’s job with JobNotFoundError, and a bad `after` with a 400', async (ctx) => {
      const s = setup();
      if (!s) return ctx.skip();
      const id = await jobWithParts(s, 1);
      expect(await rejectionOf(s.readOutput(id, BOB))).toBeInstanceOf(JobNotFoundError);
      expect(await rejectionOf(s.readOutput('no-such-job', ALICE))).toBeInstanceOf(JobNotFoundError);
      const bad = await rejectionOf(s.readOutput(id, { ...ALICE, after: -1 }));
      expect(bad).toBeInstanceOf(JobRequestError);
      expect((bad as JobRequestError).status).toBe(400);

      const theirs = outputRecorder();
      const stop = s.subscribeOutput(id, { after: 0, ...BOB }, theirs.listener);
      await vi.waitFor(() => expect(theirs.errors).toHaveLength(1));
      expect(theirs.errors[0]).toBeInstanceOf(JobNotFoundError);
      await s.output.appendOutput(id, text('secret'));
      await sleep(QUIET_MS);
      expect(theirs.parts).toEqual([]);
      stop();
    });

    it('subscribeOutput delivers the parts after `after`, then new ones, in order and never twice', async (ctx) => {
      const s = setup();
      if (!s) return ctx.skip();
      const id = await jobWithParts(s, 3);
      const rec = outputRecorder();
      const stop = s.subscribeOutput(id, { after: 1, ...ALICE }, rec.listener);
      expect(rec.parts).toEqual([]); // never during the call
      await vi.waitFor(() => expect(seqs(rec.parts)).toEqual([2, 3]));
      await s.output.appendOutput(id, text('t4'));
      await s.output.appendOutput(id, text('t5'));
      await vi.waitFor(() => expect(seqs(rec.parts)).toEqual([2, 3, 4, 5]));
      await sleep(QUIET_MS);
      expect(seqs(rec.parts)).toEqual([2, 3, 4, 5]);
      expect(rec.parts.map((part) => part.text)).toEqual(['t2', 't3', 't4', 't5']);
      expect(rec.errors).toEqual([]);
      expect(rec.dones()).toBe(0);
      stop();
    });

    it('subscribeOutput says done once when the job ends, then delivers nothing', async (ctx) => {
      const s = setup();
      if (!s) return ctx.skip();
      const id = await jobWithParts(s, 1);
      const rec = outputRecorder();
      const stop = s.subscribeOutput(id, { after: 0, ...ALICE }, rec.listener);
      await vi.waitFor(() => expect(seqs(rec.parts)).toEqual([1]));
      await s.output.appendOutput(id, text('t2'));
      await s.controls.complete(id);
      await vi.waitFor(() => expect(rec.dones()).toBe(1));
      await sleep(QUIET_MS);
      expect(seqs(rec.parts)).toEqual([1, 2]);
      expect(rec.dones()).toBe(1);
      expect(rec.afterDone()).toBe(0);
      expect(rec.errors).toEqual([]);
      stop();
    });

    it('subscribeOutput to a job already terminal delivers its parts with done at once', async (ctx) => {
      const s = setup();
      if (!s) return ctx.skip();
      const id = await jobWithParts(s, 2);
      await s.controls.fail(id, 'Boom');
      const rec = outputRecorder();
      const stop = s.subscribeOutput(id, { after: 0, ...ALICE }, rec.listener);
      await vi.waitFor(() => expect(rec.dones()).toBe(1));
      await sleep(QUIET_MS);
      expect(seqs(rec.parts)).toEqual([1, 2]);
      expect(rec.dones()).toBe(1);
      expect(rec.afterDone()).toBe(0);
      stop();
    });

    it('stops delivering after unsubscribe', async (ctx) => {
      const s = setup();
      if (!s) return ctx.skip();
      const id = await jobWithParts(s, 1);
      const rec = outputRecorder();
      const stop = s.subscribeOutput(id, { after: 0, ...ALICE }, rec.listener);
      await vi.waitFor(() => expect(seqs(rec.parts)).toEqual([1]));
      stop();
      await s.output.appendOutput(id, text('t2'));
      await s.controls.complete(id);
      await sleep(QUIET_MS);
      expect(seqs(rec.parts)).toEqual([1]);
      expect(rec.dones()).toBe(0);
      stop(); // idempotent
    });
  });
}
