import { describe, expect, it } from 'vitest';
import { createJobWatcher, type JobClient } from '../../src/core';
import { makeJob } from '../helpers';

/**
 * The watcher passes what a job's watchers ask for to `subscribe` as a third argument: a client
 * that shares one watcher across tabs (shareClientAcrossTabs) polls the job at that interval.
 * The call stays a method call, so a class-based client keeps its `this`.
 */
describe('push hint', () => {
  it('subscribe gets { pollInterval } of the watchers, called on the client itself', async () => {
    const calls: Array<{ id: string; hint: unknown; self: unknown }> = [];
    class ClassClient implements JobClient {
      async getStatus(id: string) {
        return makeJob({ id, status: 'processing' });
      }
      async list() {
        return { jobs: [], nextCursor: null };
      }
      async getPendingCount() {
        return { pending: 0, processing: 0 };
      }
      subscribe(id: string, _listener: unknown, hint?: unknown) {
        calls.push({ id, hint, self: this });
        return () => {};
      }
    }
    const client = new ClassClient();
    const watcher = createJobWatcher({ client, environment: null });
    const a = watcher.watch('a', { pollInterval: 10_000 });
    const b = watcher.watch('b', { pollInterval: () => false });
    await Promise.resolve();
    await Promise.resolve();
    expect(calls.map(({ id, hint }) => [id, hint])).toEqual([
      ['a', { pollInterval: 10_000 }],
      ['b', { pollInterval: false }],
    ]);
    expect(calls.every((call) => call.self === client)).toBe(true);
    a.release();
    b.release();
  });
});
