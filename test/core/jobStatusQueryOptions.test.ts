// @vitest-environment node
import { QueryClient, useQuery } from '@tanstack/react-query';
import * as main from 'jobwatch';
import * as core from 'jobwatch/core';
import { createJobKeys, JobProtocolError, jobKeys, jobStatusQueryOptions, type Job } from 'jobwatch/core';
import { createMemoryJobBackend } from 'jobwatch/testing';

describe('jobKeys, createJobKeys and jobStatusQueryOptions from jobwatch/core', () => {
  it('are the very functions the jobwatch entry exports (one definition)', () => {
    expect(core.jobStatusQueryOptions).toBe(main.jobStatusQueryOptions);
    expect(core.createJobKeys).toBe(main.createJobKeys);
    expect(core.jobKeys).toBe(main.jobKeys);
  });

  it('return a plain { queryKey, queryFn } that prefetchQuery stores under jobKeys.status(id), typed as the job', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create({ id: 'j1', result: { url: '/a.png' } });
    backend.complete(job.id, { url: '/a.png' });
    const options = jobStatusQueryOptions<{ url: string }>(backend, 'j1');
    expect(Object.keys(options).sort()).toEqual(['queryFn', 'queryKey']);
    expect(options.queryKey).toEqual(jobKeys.status('j1'));

    const queryClient = new QueryClient();
    await queryClient.prefetchQuery(options);
    const cached = queryClient.getQueryData(options.queryKey);
    expectTypeOf(cached).toEqualTypeOf<Job<{ url: string }> | undefined>();
    expectTypeOf<ReturnType<typeof useQuery<Job<{ url: string }>>>['data']>().toEqualTypeOf<Job<{ url: string }> | undefined>();
    expect(cached).toMatchObject({ id: 'j1', status: 'completed', result: { url: '/a.png' } });
    queryClient.clear();
  });

  it('take a client that has only getStatus (a store read as the signed-in user), a scope, and validate the job', async () => {
    const backend = createMemoryJobBackend();
    backend.create({ id: 'mine', owner: 'u1' });
    const asUser = { getStatus: (id: string) => backend.getStatus(id, { owner: 'u1' }) };
    const scoped = jobStatusQueryOptions(asUser, 'mine', { scope: 'images' });
    expect(scoped.queryKey).toEqual(createJobKeys('images').status('mine'));

    const queryClient = new QueryClient();
    await expect(queryClient.fetchQuery(scoped)).resolves.toMatchObject({ id: 'mine', status: 'pending' });
    const broken = { getStatus: async () => ({ id: 'x', status: 'exploded' }) as unknown as Job };
    await expect(queryClient.fetchQuery(jobStatusQueryOptions(broken, 'x'))).rejects.toBeInstanceOf(JobProtocolError);
    queryClient.clear();
  });
});
