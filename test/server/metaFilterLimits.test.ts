// @vitest-environment node
import { MAX_META_FILTER_LENGTH, MAX_META_FILTERS } from '../../src/contract/meta';
import type { JobStore } from '../../src/contract/types';
import { createJobHandler, type JobHandlerOptions } from '../../src/server';

// Every store matches each job against each meta filter: uncapped, 1,278 filters
// stalled the event loop for seconds. Over the contract's caps → 400, store untouched.

const authorize: JobHandlerOptions['authorize'] = () => ({ owner: 'alice' });

function setup() {
  const calls: string[] = [];
  const store: JobStore = {
    getStatus: () => Promise.reject(new Error('unused')),
    list: async () => {
      calls.push('list');
      return { jobs: [], nextCursor: null };
    },
    getPendingCount: async () => {
      calls.push('getPendingCount');
      return { pending: 0, processing: 0 };
    },
  };
  const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, onError: vi.fn() });
  return { handler, calls };
}

const filters = (n: number) => Array.from({ length: n }, (_, i) => `meta.k${i}=v`).join('&');

describe('meta.* filter limits (list and counts)', () => {
  it.each([
    ['list', '/api/jobs?'],
    ['counts', '/api/jobs/counts?'],
  ])('%s: accepts MAX_META_FILTERS filters and refuses one more, or 1,278, with 400 bad_request', async (_name, prefix) => {
    const { handler, calls } = setup();
    expect((await handler(new Request(`http://localhost${prefix}${filters(MAX_META_FILTERS)}`))).status).toBe(200);
    expect(calls).toHaveLength(1);
    for (const n of [MAX_META_FILTERS + 1, 1278]) {
      const response = await handler(new Request(`http://localhost${prefix}${filters(n)}`));
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: { code: 'bad_request', message: expect.stringContaining(String(MAX_META_FILTERS)) } });
    }
    expect(calls).toHaveLength(1);
  });

  it.each([
    ['a key', `meta.${'k'.repeat(MAX_META_FILTER_LENGTH + 1)}=v`, `meta.${'k'.repeat(MAX_META_FILTER_LENGTH)}=v`],
    ['a value', `meta.k=${'v'.repeat(MAX_META_FILTER_LENGTH + 1)}`, `meta.k=${'v'.repeat(MAX_META_FILTER_LENGTH)}`],
    ['an encoded value (counted decoded)', `meta.k=${'%C3%A9'.repeat(MAX_META_FILTER_LENGTH + 1)}`, `meta.k=${'%C3%A9'.repeat(MAX_META_FILTER_LENGTH)}`],
  ])('refuses %s longer than MAX_META_FILTER_LENGTH', async (_name, tooLong, longest) => {
    const { handler, calls } = setup();
    for (const prefix of ['/api/jobs?', '/api/jobs/counts?']) {
      expect((await handler(new Request(`http://localhost${prefix}${tooLong}`))).status).toBe(400);
      expect((await handler(new Request(`http://localhost${prefix}${longest}`))).status).toBe(200);
    }
    expect(calls).toEqual(['list', 'getPendingCount']);
  });
});
