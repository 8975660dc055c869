// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { createFetchJobClient } from '../../src/core';
import { sharesByDefault } from '../../src/react/shareTabs';

/** Which tabs may share a fetch client: its shareKey, by default the absolute base URL. */
describe('createFetchJobClient shareKey', () => {
  const fetch = (async () => new Response('{}')) as typeof globalThis.fetch;

  it('defaults to the base URL resolved against the page, without a trailing slash', () => {
    expect(createFetchJobClient({ baseUrl: '/api/jobs/', fetch }).shareKey).toBe(new URL('/api/jobs', location.href).href);
    expect(createFetchJobClient({ baseUrl: 'https://api.example.com/jobs', fetch }).shareKey).toBe('https://api.example.com/jobs');
  });

  it('takes an explicit key, and false never shares', () => {
    expect(createFetchJobClient({ baseUrl: '/api/jobs', fetch, shareKey: '/api/jobs|user-1' }).shareKey).toBe('/api/jobs|user-1');
    const unshared = createFetchJobClient({ baseUrl: '/api/jobs', fetch, shareKey: false });
    expect(unshared.shareKey).toBeUndefined();
    expect('shareKey' in unshared).toBe(false);
  });

  it('never shares by default in jsdom, key or not (tests opt in with share="tabs")', () => {
    expect(sharesByDefault(createFetchJobClient({ baseUrl: '/api/jobs', fetch }))).toBe(false);
  });
});
