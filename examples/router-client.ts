import { JobNotFoundError, type Job, type JobClient, type JobFilter, type PendingCount } from 'jobwatch';

// An existing tRPC router with job.getStatus, job.list, job.getPendingCount and job.cancel.
interface TrpcJobRouter {
  job: {
    getStatus: { query(input: { jobId: string }, opts?: { signal?: AbortSignal }): Promise<Job> };
    list: { query(input: JobFilter, opts?: { signal?: AbortSignal }): Promise<{ jobs: Job[]; nextCursor: string | null }> };
    getPendingCount: { query(input: { meta?: Record<string, string> }, opts?: { signal?: AbortSignal }): Promise<PendingCount> };
    cancel: { mutate(input: { jobId: string }): Promise<Job> };
  };
}

export function trpcJobClient(trpc: TrpcJobRouter): JobClient {
  return {
    getStatus: (id, o) => trpc.job.getStatus.query({ jobId: id }, o),
    list: (filter = {}, o) => trpc.job.list.query(filter, o),
    getPendingCount: (filter = {}, o) => trpc.job.getPendingCount.query(filter, o),
    cancel: (id) => trpc.job.cancel.mutate({ jobId: id }),
  };
}

// A REST API with routes of its own. Throw JobNotFoundError on 404 so watching stops.
export function restJobClient(baseUrl: string): JobClient {
  const get = async (path: string, signal?: AbortSignal) => {
    const response = await fetch(baseUrl + path, { signal });
    if (response.status === 404) throw new JobNotFoundError(path.split('/').pop() ?? path);
    if (!response.ok) throw new Error(`GET ${path} answered ${response.status}`);
    return response.json();
  };
  return {
    getStatus: (id, o) => get(`/jobs/${encodeURIComponent(id)}`, o?.signal),
    list: (filter = {}, o) => get(`/jobs?status=${[filter.status ?? []].flat().join(',')}`, o?.signal),
    getPendingCount: (_filter, o) => get('/jobs/pending-count', o?.signal),
  };
}
