// @vitest-environment node
import { renderToString } from 'react-dom/server';
import { JobClientProvider } from '../../src/react/JobClientProvider';
import { useJobNotifications } from '../../src/react/useJobNotifications';
import { useTrackedJobs } from '../../src/react/useTrackedJobs';
import type { JobIdStorage } from '../../src/react/trackedJobsStore';
import { createMemoryJobBackend } from '../../src/testing';

function Tracked({ storage }: { storage?: JobIdStorage }) {
  const { ids } = useTrackedJobs('exports', { storage });
  return <p>{`tracked=[${ids.join(',')}]`}</p>;
}

function Notifications() {
  const { supported, permission } = useJobNotifications();
  return <p>{`supported=${supported} permission=${permission}`}</p>;
}

describe('server rendering', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('useTrackedJobs renders [] and touches no storage, no request, no timer', () => {
    expect(typeof window).toBe('undefined');
    const backend = createMemoryJobBackend();
    backend.create({ id: 'job-1' });
    const storage: JobIdStorage = {
      getItem: vi.fn(() => '["job-1"]'),
      setItem: vi.fn(),
      removeItem: vi.fn(),
    };
    const html = renderToString(
      <JobClientProvider client={backend}>
        <Tracked storage={storage} />
        <Tracked />
      </JobClientProvider>,
    );
    expect(html).toContain('tracked=[]</p><p>tracked=[]');
    expect(storage.getItem).not.toHaveBeenCalled();
    expect(storage.setItem).not.toHaveBeenCalled();
    expect(backend.calls).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('useJobNotifications renders as unsupported and does nothing', () => {
    const backend = createMemoryJobBackend();
    const html = renderToString(
      <JobClientProvider client={backend}>
        <Notifications />
      </JobClientProvider>,
    );
    expect(html).toContain('supported=false permission=denied');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('two providers in one server render each render [] with no storage, request or timer', () => {
    const backend = createMemoryJobBackend();
    backend.create({ id: 'job-1' });
    const html = renderToString(
      <>
        <JobClientProvider client={backend}>
          <Tracked />
          <Notifications />
        </JobClientProvider>
        <JobClientProvider client={backend}>
          <Tracked />
        </JobClientProvider>
      </>,
    );
    expect(html).toContain('tracked=[]</p><p>supported=false permission=denied</p><p>tracked=[]');
    expect(backend.calls).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
