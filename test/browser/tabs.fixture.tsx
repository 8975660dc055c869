/**
 * The page the tab-sharing browser tests (and bench/tabs.bench.ts) open in several tabs:
 * a JobClientProvider over createFetchJobClient against the test server, and one row per
 * job id of `?ids=a,b` showing its status. `?share=none` turns sharing off,
 * `?share=default` leaves the provider's default, `?push=off` polls instead of the event stream.
 * Tests read the DOM and `window.jobwatchTest`.
 */
import { createRoot } from 'react-dom/client';
import { createFetchJobClient, JobClientProvider, useJobStatus, type Job } from 'jobwatch';

interface TestState {
  leader: boolean;
  /** Job ids whose row's onSettled fired in this tab (one entry per call). */
  settled: string[];
  /** Job ids of the provider's onJobSettled in this tab. */
  appSettled: string[];
  /** When each row last changed: id → [status, progress, Date.now()]. */
  seen: Record<string, [string, number | null, number]>;
}

declare global {
  interface Window {
    jobwatchTest: TestState;
  }
}

const params = new URLSearchParams(location.search);
const ids = (params.get('ids') ?? '').split(',').filter(Boolean);
const mode = params.get('share');
const state: TestState = { leader: false, settled: [], appSettled: [], seen: {} };
window.jobwatchTest = state;

const client = Object.assign(createFetchJobClient({ baseUrl: '/api/jobs', push: params.get('push') !== 'off' }), {
  shareKey: `${location.origin}/api/jobs`,
});
const share = mode === 'none' ? 'none' : mode === 'default' ? undefined : { onLeaderChange: (leader: boolean) => (state.leader = leader) };

function Row({ id }: { id: string }) {
  const { status, job } = useJobStatus(id, { onSettled: () => state.settled.push(id) });
  const label = status ?? 'loading';
  state.seen[id] = [label, job?.progress ?? null, Date.now()];
  return (
    <li data-id={id} data-status={label} data-progress={job?.progress ?? ''}>
      {id}: {label}
    </li>
  );
}

function App() {
  return (
    <JobClientProvider client={client} share={share} onJobSettled={(job: Job) => state.appSettled.push(job.id)}>
      <ul>
        {ids.map((id) => (
          <Row key={id} id={id} />
        ))}
      </ul>
    </JobClientProvider>
  );
}

createRoot(document.getElementById('root')!).render(<App />);
