import { act, screen } from '@testing-library/react';
import { renderToString } from 'react-dom/server';
import { JobList } from '../../src/components/JobList';
import { JobProgress } from '../../src/components/JobProgress';
import { JobStatus } from '../../src/components/JobStatus';
import { PendingJobsBadge } from '../../src/components/PendingJobsBadge';
import type { Job } from '../../src/contract/types';
import { JobClientProvider } from '../../src/react/JobClientProvider';
import { jobKeys } from '../../src/react/jobKeys';
import { createMemoryJobBackend } from '../../src/testing/createMemoryJobBackend';
import type { MemoryJobSeed } from '../../src/testing/createMemoryJobBackend';
import { advance, renderWithJobs, testQueryClient } from '../helpers';

/**
 * Job data (error and progress messages, ids, meta) comes from servers and
 * users. Every component must render it as text: no element, no attribute, no
 * handler may come out of it. Labels are app-controlled and not covered here,
 * except where a label function echoes data into an attribute.
 */
const PAYLOADS = ['<img src=x onerror=alert(1)>', '<script>alert(1)</script>', '"><svg onload=alert(1)>'] as const;

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** A ready-made job (it keeps this state), stamped with the fake clock's time. */
function seed(extra: Partial<Job> & Pick<Job, 'status' | 'id'>): MemoryJobSeed {
  const at = new Date().toISOString();
  return { createdAt: at, updatedAt: at, retryCount: 0, version: 1, ...extra };
}

/** Nothing in the document was made from markup in the data. */
function expectInert(root: HTMLElement = document.body) {
  expect(root.querySelectorAll('img')).toHaveLength(0);
  expect(root.querySelectorAll('script')).toHaveLength(0);
  expect(root.querySelectorAll('svg[onload], [onload], [onerror]')).toHaveLength(0);
  const html = root.innerHTML;
  expect(html).not.toMatch(/<img/i);
  expect(html).not.toMatch(/<script/i);
  expect(html).not.toMatch(/<svg[^>]*onload/i);
}

/** Server HTML that escapes the payload (for text and for attributes alike). */
function expectInertHtml(html: string, payload: string) {
  expect(html).not.toMatch(/<img/i);
  expect(html).not.toMatch(/<script/i);
  expect(html).not.toMatch(/<svg[^>]*onload/i);
  expect(html).not.toContain(payload);
  expect(html).toContain(payload.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;'));
}

describe.each(PAYLOADS)('markup in job data is text: %s', (payload) => {
  describe('JobStatus', () => {
    it('detailed: a failed job shows its error message literally', async () => {
      const backend = createMemoryJobBackend({ jobs: [seed({ id: 'j1', status: 'failed', error: { message: payload } })] });
      const { container } = renderWithJobs(<JobStatus jobId="j1" detailed />, { client: backend });
      await advance(10);
      const region = screen.getByRole('status');
      expect(region.getAttribute('data-state')).toBe('failed');
      expect(region.querySelector('.jobwatch-status__error')?.textContent).toBe(payload);
      expect(region.textContent).toContain(payload);
      expectInert(container);
    });

    it('detailed: "Last error: …" of a retrying job and a progress message show literally', async () => {
      const backend = createMemoryJobBackend({
        jobs: [
          seed({ id: 'j1', status: 'processing', progressMessage: payload, retryCount: 1, maxRetries: 3, error: { message: payload } }),
        ],
      });
      const { container } = renderWithJobs(<JobStatus jobId="j1" detailed />, { client: backend });
      await advance(10);
      const region = screen.getByRole('status');
      expect(region.getAttribute('data-state')).toBe('processing');
      expect(region.querySelector('.jobwatch-status__message')?.textContent).toBe(payload);
      expect(region.querySelector('.jobwatch-status__error')?.textContent).toBe(`Last error: ${payload}`);
      expectInert(container);
    });

    it('compact: data does not reach the markup, and nothing is created from it', async () => {
      const backend = createMemoryJobBackend({
        jobs: [
          seed({ id: 'a', status: 'failed', error: { message: payload } }),
          seed({ id: 'b', status: 'processing', progressMessage: payload, meta: { name: payload } }),
        ],
      });
      const { container } = renderWithJobs(
        <>
          <JobStatus jobId="a" />
          <JobStatus jobId="b" />
        </>,
        { client: backend },
      );
      await advance(10);
      const [a, b] = screen.getAllByRole('status');
      expect(a!.getAttribute('data-state')).toBe('failed');
      expect(b!.getAttribute('data-state')).toBe('processing');
      expect(a!.textContent).not.toContain(payload);
      expect(b!.textContent).not.toContain(payload);
      expectInert(container);
    });

    it('with actions: the message stays text beside real buttons', async () => {
      const backend = createMemoryJobBackend({
        jobs: [
          seed({ id: 'f', status: 'failed', error: { message: payload } }),
          seed({ id: 'p', status: 'processing', progressMessage: payload }),
        ],
      });
      const { container } = renderWithJobs(
        <>
          <JobStatus jobId="f" detailed actions />
          <JobStatus jobId="p" detailed actions />
        </>,
        { client: backend },
      );
      await advance(10);
      const [f, p] = screen.getAllByRole('status');
      expect(f!.querySelector('.jobwatch-status__error')?.textContent).toBe(payload);
      expect(p!.querySelector('.jobwatch-status__message')?.textContent).toBe(payload);
      expect(screen.getAllByRole('button').map((b) => b.textContent)).toEqual(['Retry', 'Cancel']);
      expectInert(container);
    });

    it('a children function receives the data untouched and React renders it as text', async () => {
      const backend = createMemoryJobBackend({
        jobs: [seed({ id: 'j1', status: 'failed', error: { message: payload }, meta: { name: payload } })],
      });
      const seen: unknown[] = [];
      const { container } = renderWithJobs(
        <JobStatus jobId="j1">
          {({ job }) => {
            if (job) seen.push(job.error?.message, job.meta?.name);
            return job ? `${job.error?.message}|${String(job.meta?.name)}` : null;
          }}
        </JobStatus>,
        { client: backend },
      );
      await advance(10);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((value) => value === payload)).toBe(true);
      expect(screen.getByRole('status').textContent).toBe(`${payload}|${payload}`);
      expectInert(container);
    });

    it('on the server: a prefetched job renders escaped HTML', () => {
      const backend = createMemoryJobBackend();
      const queryClient = testQueryClient();
      queryClient.setQueryData(jobKeys.status('j1'), seed({ id: 'j1', status: 'failed', error: { message: payload } }));
      const html = renderToString(
        <JobClientProvider client={backend} queryClient={queryClient}>
          <JobStatus jobId="j1" detailed actions />
        </JobClientProvider>,
      );
      expect(html).toContain('data-state="failed"');
      expectInertHtml(html, payload);
      // Parsed back, the HTML gives the payload as text.
      const host = document.createElement('div');
      host.innerHTML = html;
      expect(host.querySelector('.jobwatch-status__error')?.textContent).toBe(payload);
      expectInert(host);
      queryClient.clear();
    });
  });

  describe('JobProgress', () => {
    it('keeps data out of aria-valuetext and renders it as text through a children function', async () => {
      const backend = createMemoryJobBackend({
        jobs: [seed({ id: 'j1', status: 'processing', progress: 0.45, progressMessage: payload, error: { message: payload } })],
      });
      const { container } = renderWithJobs(
        <JobProgress jobId="j1">{({ job, valueText }) => `${valueText} ${job?.progressMessage ?? ''}`}</JobProgress>,
        { client: backend },
      );
      await advance(10);
      const bar = screen.getByRole('progressbar');
      expect(bar.getAttribute('aria-valuetext')).toBe('45%');
      expect(bar.textContent).toBe(`45% ${payload}`);
      expectInert(container);
    });

    it('a valueText echoing data stays one attribute value, in the DOM and on the server', async () => {
      const backend = createMemoryJobBackend({ jobs: [seed({ id: 'j1', status: 'processing', progress: 0.45 })] });
      const valueText = ({ percent }: { percent: number | null }) => `${percent}% ${payload}`;
      const { container } = renderWithJobs(<JobProgress jobId="j1" labels={{ valueText }} />, { client: backend });
      await advance(10);
      const bar = screen.getByRole('progressbar');
      expect(bar.getAttribute('aria-valuetext')).toBe(`45% ${payload}`);
      expect(bar.getAttribute('aria-valuenow')).toBe('45');
      expectInert(container);

      const queryClient = testQueryClient();
      queryClient.setQueryData(jobKeys.status('j1'), seed({ id: 'j1', status: 'processing', progress: 0.45 }));
      const html = renderToString(
        <JobClientProvider client={backend} queryClient={queryClient}>
          <JobProgress jobId="j1" labels={{ valueText }} />
        </JobClientProvider>,
      );
      expectInertHtml(html, payload);
      const host = document.createElement('div');
      host.innerHTML = html;
      expect(host.querySelector('[role="progressbar"]')?.getAttribute('aria-valuetext')).toBe(`45% ${payload}`);
      expectInert(host);
      queryClient.clear();
    });
  });

  describe('PendingJobsBadge', () => {
    it('counts jobs whose data holds markup, filtered by a meta value holding markup, and renders only text', async () => {
      const backend = createMemoryJobBackend({
        jobs: [
          seed({ id: 'a', status: 'pending', meta: { project: payload }, progressMessage: payload }),
          seed({ id: 'b', status: 'processing', meta: { project: payload }, progressMessage: payload }),
          seed({ id: 'c', status: 'processing', meta: { project: 'other' } }),
        ],
      });
      const { container } = renderWithJobs(<PendingJobsBadge filter={{ meta: { project: payload } }} />, { client: backend });
      await advance(10);
      const badge = container.querySelector('.jobwatch-badge');
      expect(badge?.textContent).toBe('2 active jobs (1 pending, 1 processing)');
      expectInert(container);
    });
  });

  describe('JobList', () => {
    it('passes ids and meta values to the render function untouched; they render as text', async () => {
      const id = `job ${payload}`;
      const backend = createMemoryJobBackend({
        jobs: [seed({ id, status: 'failed', meta: { title: payload }, error: { message: payload } })],
      });
      const seen: Array<{ id: string; title: unknown; message: unknown }> = [];
      const { container } = renderWithJobs(
        <JobList>
          {({ jobs }) => (
            <ul>
              {jobs.map((job) => {
                seen.push({ id: job.id, title: job.meta?.title, message: job.error?.message });
                return (
                  <li key={job.id} data-id={job.id} title={String(job.meta?.title)}>
                    {job.id}: {String(job.meta?.title)} ({job.error?.message})
                  </li>
                );
              })}
            </ul>
          )}
        </JobList>,
        { client: backend },
      );
      await advance(10);
      await act(async () => {});
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.at(-1)).toEqual({ id, title: payload, message: payload });
      const item = container.querySelector('li');
      expect(item?.textContent).toBe(`${id}: ${payload} (${payload})`);
      expect(item?.getAttribute('data-id')).toBe(id);
      expect(item?.getAttribute('title')).toBe(payload);
      expectInert(container);
    });
  });
});

describe('the checks of this file', () => {
  it.each(PAYLOADS)('catch markup that became elements: %s', (payload) => {
    const { container } = renderWithJobs(<span dangerouslySetInnerHTML={{ __html: payload }} />, {
      client: createMemoryJobBackend(),
    });
    expect(() => expectInert(container)).toThrow();
    expect(() => expectInertHtml(`<span>${payload}</span>`, payload)).toThrow();
  });
});
