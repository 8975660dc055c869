import { createFetchJobClient, isTerminal, JobNotFoundError, JobRequestError, JobUnauthorizedError, type Job } from '../../src/core';
import type { MemoryJobBackend } from '../../src/testing';

/** A running transport serving `backend` under `baseUrl`; requests are logged. */
export interface ServedBackend {
  backend: MemoryJobBackend;
  baseUrl: string;
  /** Every request that reached the server: method, URL and headers. */
  requests: Array<{ method: string; url: URL; headers: Headers }>;
  close(): Promise<void>;
}

/** The client contract, run against any transport (a real node:http server, MSW). */
export function clientSuite(name: string, serve: () => Promise<ServedBackend>) {
  describe(`createFetchJobClient over ${name}`, () => {
    let s: ServedBackend;
    beforeEach(async () => {
      s = await serve();
    });
    afterEach(async () => {
      await s.close();
    });
    const client = (user = 'alice') => createFetchJobClient({ baseUrl: s.baseUrl, headers: { 'x-user-id': user } });

    it('reads a job', async () => {
      const job = s.backend.create({ owner: 'alice', meta: { projectId: 'p1' } });
      s.backend.start(job.id);
      expect(await client().getStatus(job.id)).toMatchObject({ id: job.id, status: 'processing', meta: { projectId: 'p1' } });
    });

    it('reads ids with reserved characters', async () => {
      const job = s.backend.create({ owner: 'alice', id: 'gen/a b?c=d,e' });
      expect((await client().getStatus(job.id)).id).toBe('gen/a b?c=d,e');
      const batch = await client().getStatuses([job.id]);
      expect(batch.jobs.map((j) => j.id)).toEqual(['gen/a b?c=d,e']);
    });

    // Every id the contract allows, `.` and `..` included (they travel in the query: `?id=..`).
    const awkwardIds = ['.', '..', '...', 'a/b', '%2e', '%2E', '?x', '#', '/.', './', 'a/../b', 'jöb ✓ 日本 🎉', 'x'.repeat(200)];

    it.each(awkwardIds.map((id) => [id.length > 20 ? `${id.slice(0, 10)}… (${id.length} characters)` : id, id]))(
      'round-trips the id %j: read, batch, cancel, retry',
      async (_name, id) => {
        s.backend.create({ owner: 'alice', id });
        const c = client();
        expect((await c.getStatus(id)).id).toBe(id);
        expect((await c.getStatuses([id])).jobs.map((j) => j.id)).toEqual([id]);
        expect((await c.cancel(id)).status).toBe('cancelled');
        expect((await c.getStatus(id)).status).toBe('cancelled');
        const failed = `${id.slice(0, 190)}-f`;
        s.backend.create({ owner: 'alice', id: failed });
        s.backend.fail(failed, 'boom');
        expect((await c.retry(failed)).status).toBe('pending');
        // Another owner's job with that id is still not found.
        await expect(client('bob').getStatus(id)).rejects.toBeInstanceOf(JobNotFoundError);
      },
    );

    it('pushes jobs with awkward ids over the event stream', async () => {
      const c = client();
      const seen = new Map<string, string>();
      const offs = awkwardIds.map((id) => {
        s.backend.create({ owner: 'alice', id });
        return c.subscribe!(id, { next: (job) => seen.set(job.id, job.status) });
      });
      await vi.waitFor(() => expect(seen.size).toBe(awkwardIds.length), { timeout: 5000 });
      s.backend.start('..');
      await vi.waitFor(() => expect(seen.get('..')).toBe('processing'), { timeout: 5000 });
      for (const off of offs) off();
    });

    it('refuses, without a request, an id no job can have (a lone surrogate, a route name)', async () => {
      const before = s.requests.length;
      for (const id of ['a\uD800', 'counts', '', 'x'.repeat(201)]) {
        const error = await client().getStatus(id).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(JobRequestError);
        expect((error as JobRequestError).code).toBe('bad_request');
        await expect(client().cancel(id)).rejects.toBeInstanceOf(JobRequestError);
        await expect(client().getStatuses(['ok', id])).rejects.toBeInstanceOf(JobRequestError);
      }
      expect(s.requests.length).toBe(before);
      const error = await new Promise((resolve) => client().subscribe!('a\uDC00', { next: () => {}, error: resolve }));
      expect(error).toBeInstanceOf(JobRequestError);
    });

    it('reads many jobs in one batch request, listing the missing ones', async () => {
      const a = s.backend.create({ owner: 'alice' });
      const b = s.backend.create({ owner: 'alice' });
      const before = s.requests.length;
      const batch = await client().getStatuses([a.id, b.id, 'nope']);
      expect(batch.jobs.map((j) => j.id).sort()).toEqual([a.id, b.id].sort());
      expect(batch.missing).toEqual(['nope']);
      expect(s.requests.length - before).toBe(1);
    });

    it('pages through a filtered list without duplicates or gaps', async () => {
      const ids = Array.from({ length: 5 }, () => s.backend.create({ owner: 'alice', meta: { projectId: 'p1' } }).id);
      s.backend.create({ owner: 'alice', meta: { projectId: 'p2' } });
      s.backend.complete(ids[0]!);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await client().list({ meta: { projectId: 'p1' }, limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...page.jobs.map((j) => j.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen.sort()).toEqual([...ids].sort());
      const active = await client().list({ meta: { projectId: 'p1' }, status: ['pending', 'processing'] });
      expect(active.jobs.map((j) => j.id).sort()).toEqual(ids.slice(1).sort());
    });

    it('counts active jobs, scoped by meta', async () => {
      s.backend.create({ owner: 'alice', meta: { projectId: 'p1' } });
      const b = s.backend.create({ owner: 'alice', meta: { projectId: 'p1' } });
      s.backend.create({ owner: 'alice', meta: { projectId: 'p2' } });
      s.backend.start(b.id);
      expect(await client().getPendingCount({ meta: { projectId: 'p1' } })).toEqual({ pending: 1, processing: 1 });
    });

    it('cancels and retries, answering 409 for a job in the wrong state', async () => {
      const job = s.backend.create({ owner: 'alice' });
      expect((await client().cancel(job.id)).status).toBe('cancelled');
      const again = await client().cancel(job.id).catch((e: unknown) => e);
      expect(again).toBeInstanceOf(JobRequestError);
      expect((again as JobRequestError).code).toBe('not_cancellable');
      const failed = s.backend.create({ owner: 'alice' });
      s.backend.fail(failed.id, 'boom');
      expect((await client().retry(failed.id)).status).toBe('pending');
      const notFailed = await client().retry(failed.id).catch((e: unknown) => e);
      expect((notFailed as JobRequestError).code).toBe('not_retryable');
    });

    it('answers an unknown job with JobNotFoundError', async () => {
      await expect(client().getStatus('no-such-job')).rejects.toBeInstanceOf(JobNotFoundError);
    });

    it('answers no owner with JobUnauthorizedError and another owner’s job as not found', async () => {
      const job = s.backend.create({ owner: 'alice' });
      const anonymous = createFetchJobClient({ baseUrl: s.baseUrl });
      await expect(anonymous.getStatus(job.id)).rejects.toBeInstanceOf(JobUnauthorizedError);
      await expect(client('bob').getStatus(job.id)).rejects.toBeInstanceOf(JobNotFoundError);
      expect((await client('bob').getStatuses([job.id])).missing).toEqual([job.id]);
      expect((await client('bob').list()).jobs).toEqual([]);
    });

    it('pushes changes of many jobs over one event stream, which ends once every job has settled', async () => {
      const a = s.backend.create({ owner: 'alice' });
      const b = s.backend.create({ owner: 'alice' });
      const c = client();
      const seen: Record<string, string[]> = { [a.id]: [], [b.id]: [] };
      const done = new Promise<void>((resolve) => {
        const settled = new Set<string>();
        for (const id of [a.id, b.id]) {
          c.subscribe!(id, {
            next(job: Job) {
              seen[id]!.push(job.status);
              if (isTerminal(job)) {
                settled.add(id);
                if (settled.size === 2) resolve();
              }
            },
          });
        }
      });
      await vi.waitFor(() => expect(seen[a.id]).toEqual(['pending']));
      await vi.waitFor(() => expect(seen[b.id]).toEqual(['pending']));
      s.backend.start(a.id);
      s.backend.complete(a.id);
      s.backend.fail(b.id, 'boom');
      await done;
      expect(seen[a.id]).toEqual(['pending', 'processing', 'completed']);
      expect(seen[b.id]).toEqual(['pending', 'failed']);
      const streams = s.requests.filter((r) => r.url.pathname.endsWith('/events'));
      expect(streams).toHaveLength(1);
      expect(streams[0]!.url.searchParams.get('ids')!.split(',').sort()).toEqual([a.id, b.id].sort());
    });

    it('tells a subscriber its job is missing with JobNotFoundError', async () => {
      const error = await new Promise((resolve) => client().subscribe!('nope', { next: () => {}, error: resolve }));
      expect(error).toBeInstanceOf(JobNotFoundError);
    });

    it('adds a job to the push without losing events of the others', async () => {
      const a = s.backend.create({ owner: 'alice' });
      const c = client();
      const seen: string[] = [];
      const offA = c.subscribe!(a.id, { next: (job) => seen.push(`${job.id}:${job.status}`) });
      await vi.waitFor(() => expect(seen).toEqual([`${a.id}:pending`]));
      const b = s.backend.create({ owner: 'alice' });
      const offB = c.subscribe!(b.id, { next: (job) => seen.push(`${job.id}:${job.status}`) });
      // A change while the stream is being replaced still arrives, once.
      s.backend.start(a.id);
      await vi.waitFor(() => expect(seen).toContain(`${b.id}:pending`));
      await vi.waitFor(() => expect(seen).toContain(`${a.id}:processing`));
      s.backend.complete(a.id);
      s.backend.start(b.id);
      await vi.waitFor(() => expect(seen).toContain(`${b.id}:processing`));
      await vi.waitFor(() => expect(seen).toContain(`${a.id}:completed`));
      expect(seen.filter((x) => x === `${a.id}:processing`)).toHaveLength(1);
      offA();
      offB();
    });
  });
}
