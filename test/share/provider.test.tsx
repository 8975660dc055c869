/** JobClientProvider's `share`: three "tabs" (three providers) over one fake browser, under StrictMode. */
import { act, render } from '@testing-library/react';
import { StrictMode } from 'react';
import type { Job, JobClient } from '../../src/core';
import { JobClientProvider, useJobClient } from '../../src/react/JobClientProvider';
import { useJobStatus } from '../../src/react/useJobStatus';
import { createMemoryJobBackend } from '../../src/testing';
import { pollingClient, reads } from '../core/watcher.fakes';
import { testQueryClient } from '../helpers';
import { fakeBrowser, fakeEnvironment, type FakeTab } from './fakes';

/** A global BroadcastChannel for the notification claims (every instance is another tab's). */
class FakeBroadcastChannel extends EventTarget {
  static open = new Set<FakeBroadcastChannel>();
  constructor(readonly name: string) {
    super();
    FakeBroadcastChannel.open.add(this);
  }
  postMessage(data: unknown) {
    for (const other of FakeBroadcastChannel.open) {
      if (other !== this && other.name === this.name) setTimeout(() => other.dispatchEvent(new MessageEvent('message', { data })), 0);
    }
  }
  close() {
    FakeBroadcastChannel.open.delete(this);
  }
}

const settle = (ms: number) => act(() => vi.advanceTimersByTimeAsync(ms));

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  vi.stubGlobal('BroadcastChannel', FakeBroadcastChannel);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  FakeBroadcastChannel.open.clear();
});

function Row({ id, onSettled }: { id: string; onSettled: (job: Job) => void }) {
  const { status } = useJobStatus(id, { onSettled });
  return <p data-testid={id}>{status ?? 'loading'}</p>;
}

function tabApp(tab: FakeTab, client: JobClient, id: string, calls: { row: string[]; app: string[] }) {
  const page = fakeEnvironment();
  return render(
    <StrictMode>
      <JobClientProvider
        client={client}
        queryClient={testQueryClient()}
        share={{ key: 'memory', channel: (name) => tab.channel(name), locks: tab.locks, environment: page.environment, lifecycle: null }}
        onJobSettled={(job) => calls.app.push(job.id)}
      >
        <Row id={id} onSettled={(job) => calls.row.push(job.id)} />
      </JobClientProvider>
    </StrictMode>,
  );
}

describe('JobClientProvider share', () => {
  it('three tabs: one poll round for all, each hook’s callback once, onJobSettled once for the browser', async () => {
    const browser = fakeBrowser();
    const backend = createMemoryJobBackend();
    const client = pollingClient(backend);
    const job = backend.create();
    const calls = [0, 1, 2].map(() => ({ row: [] as string[], app: [] as string[] }));
    const views = calls.map((c) => tabApp(browser.tab(), client, job.id, c));
    // The coordination code is loaded with a dynamic import.
    await act(() => vi.dynamicImportSettled());
    await settle(500);
    for (const v of views) expect(v.container.textContent).toBe('pending');
    backend.start(job.id);
    const before = reads(backend);
    await settle(10_000);
    // One tab alone polls every 2 s: 5 reads in 10 s, whatever the number of tabs.
    expect(reads(backend) - before).toBeLessThanOrEqual(6);
    for (const v of views) expect(v.container.textContent).toBe('processing');
    backend.complete(job.id);
    await settle(3000);
    for (const v of views) expect(v.container.textContent).toBe('completed');
    expect(calls.map((c) => c.row)).toEqual([[job.id], [job.id], [job.id]]);
    expect(calls.flatMap((c) => c.app)).toEqual([job.id]);
    for (const v of views) v.unmount();
  });

  it('does not share by default in jsdom, and asks for a key when the client has no shareKey', () => {
    const backend = createMemoryJobBackend();
    let seen: JobClient | null = null;
    function Probe() {
      seen = useJobClient();
      return null;
    }
    render(
      <JobClientProvider client={backend} queryClient={testQueryClient()}>
        <Probe />
      </JobClientProvider>,
    );
    expect(seen).toBe(backend);
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(() =>
      render(
        <JobClientProvider client={backend} queryClient={testQueryClient()} share="tabs">
          <Probe />
        </JobClientProvider>,
      ),
    ).toThrow(/shareKey/);
  });
});
