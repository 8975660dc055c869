// @vitest-environment node
import { renderToString } from 'react-dom/server';
import { JobList } from '../../src/components/JobList';
import { JobClientProvider } from '../../src/react/JobClientProvider';
import { createMemoryJobBackend } from '../../src/testing';

describe('useJobs on the server', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('renders the loading state with no window, no request and no timer', () => {
    expect(typeof window).toBe('undefined');
    const backend = createMemoryJobBackend();
    backend.create();
    const html = renderToString(
      <JobClientProvider client={backend}>
        <JobList filter={{ status: ['pending', 'processing'] }}>
          {({ jobs, isLoading }) => <p>{`jobs=${jobs.length} loading=${isLoading}`}</p>}
        </JobList>
      </JobClientProvider>,
    );
    expect(html).toContain('jobs=0');
    expect(backend.calls).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
