import { describe, expect, it } from 'vitest';
import { isNewerJob } from '../../src/contract/ordering';
import type { Job } from '../../src/contract/types';

const T = '2030-01-01T00:00:00.000Z';
const LATER = '2030-01-01T00:00:01.000Z';

function job(patch: Partial<Job> = {}): Job {
  return { id: 'a', status: 'processing', progress: 0.2, createdAt: T, updatedAt: T, ...patch };
}

describe('isNewerJob (state never goes backwards)', () => {
  it('takes anything over nothing, and nothing over itself', () => {
    const current = job();
    expect(isNewerJob(undefined, current)).toBe(true);
    expect(isNewerJob(current, current)).toBe(false);
  });

  it('orders by version when both have one, whatever the times say', () => {
    expect(isNewerJob(job({ version: 3 }), job({ version: 4, status: 'pending', updatedAt: T }))).toBe(true);
    expect(isNewerJob(job({ version: 4, updatedAt: T }), job({ version: 3, updatedAt: LATER }))).toBe(false);
  });

  it('with equal versions, compares as without: a later updatedAt or new content of the same rank wins', () => {
    // e.g. progress within one attempt of a store that versions attempts (BullMQ)
    expect(isNewerJob(job({ version: 3, progress: 0.2 }), job({ version: 3, progress: 0.6 }))).toBe(true);
    expect(isNewerJob(job({ version: 3 }), job({ version: 3 }))).toBe(false);
    expect(isNewerJob(job({ version: 3, updatedAt: LATER }), job({ version: 3, progress: 0.9, updatedAt: T }))).toBe(false);
  });

  it('without versions, orders by updatedAt; at the same time never moves the status back', () => {
    expect(isNewerJob(job({ updatedAt: T }), job({ updatedAt: LATER, status: 'pending' }))).toBe(true);
    expect(isNewerJob(job({ updatedAt: LATER }), job({ updatedAt: T, progress: 0.9 }))).toBe(false);
    expect(isNewerJob(job(), job({ status: 'pending' }))).toBe(false);
    expect(isNewerJob(job(), job({ status: 'completed', progress: 1 }))).toBe(true);
  });

  it('never changes a terminal job, even for a higher version', () => {
    expect(isNewerJob(job({ status: 'completed', version: 5 }), job({ status: 'processing', version: 9 }))).toBe(false);
  });
});
