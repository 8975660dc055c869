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
  const get = async (path: string, signal: AbortSignal | undefined, notFoundId?: string) => {
    // `signal ?? null`: RequestInit takes null, not undefined, under exactOptionalPropertyTypes.
    const response = await fetch(baseUrl + path, { signal: signal ?? null });
    if (response.status === 404 && notFoundId !== undefined) throw new JobNotFoundError(notFoundId);
    if (!response.ok) throw new Error(`GET ${path} answered ${response.status}`);
    return response.json();
  };
  return {
    getStatus: (id, o) => get(`/jobs/${encodeURIComponent(id)}`, o?.signal, id),
    list: (filter = {}, o) => {
      const query = new URLSearchParams();
      if (filter.status !== undefined) query.set('status', [filter.status].flat().join(','));
      if (filter.cursor !== undefined) query.set('cursor', filter.cursor);
      if (filter.limit !== undefined) query.set('limit', String(filter.limit));
      return get(`/jobs?${query}`, o?.signal);
    },
    getPendingCount: (_filter, o) => get('/jobs/pending-count', o?.signal),
  };
}
