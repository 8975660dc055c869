import { act, render, renderHook } from '@testing-library/react';
import { StrictMode, type ReactNode } from 'react';
import type { JobClient } from '../../src/core';
import { JobClientProvider } from '../../src/react/JobClientProvider';
import { CLAIM_WINDOW_MS, NOTIFICATION_CHANNEL } from '../../src/react/notificationClaims';
import {
  DEFAULT_HIDDEN_POLL_INTERVAL,
  useJobNotifications,
  type UseJobNotificationsOptions,
} from '../../src/react/useJobNotifications';
import { useJobStatus } from '../../src/react/useJobStatus';
import { createMemoryJobBackend, type MemoryJobBackend } from '../../src/testing';
import { advance, setVisibility, testQueryClient } from '../helpers';

/** A stand-in for the browser's Notification: records what was shown; permission answers as told. */
function stubNotification(permission: NotificationPermission, answer: NotificationPermission = 'granted') {
  const shown: FakeNotification[] = [];
  class FakeNotification {
    static permission: NotificationPermission = permission;
    static requestPermission = vi.fn(async () => {
      FakeNotification.permission = answer;
      return answer;
    });
    onclick: (() => void) | null = null;
    close = vi.fn();
    constructor(
      readonly title: string,
      readonly options: NotificationOptions = {},
    ) {
      shown.push(this);
    }
  }
  vi.stubGlobal('Notification', FakeNotification);
  return { Notification: FakeNotification, shown };
}

/** An in-memory BroadcastChannel: delivers to the other open channels of the same name, asynchronously as browsers do. */
function stubBroadcastChannel() {
  const open = new Set<FakeChannel>();
  class FakeChannel {
    private readonly listeners = new Set<(event: { data: unknown }) => void>();
    constructor(readonly name: string) {
      open.add(this);
    }
    addEventListener(_type: 'message', listener: (event: { data: unknown }) => void) {
      this.listeners.add(listener);
    }
    removeEventListener(_type: 'message', listener: (event: { data: unknown }) => void) {
      this.listeners.delete(listener);
    }
    postMessage(data: unknown) {
      const copy = structuredClone(data);
      for (const other of open) {
        if (other === this || other.name !== this.name) continue;
        queueMicrotask(() => {
          if (open.has(other)) for (const listener of other.listeners) listener({ data: copy });
        });
      }
    }
    close() {
      open.delete(this);
    }
  }
  vi.stubGlobal('BroadcastChannel', FakeChannel);
  return { open };
}

/** A client of the backend without push, so these tests see polling alone. */
function pollingClient(backend: MemoryJobBackend): JobClient {
  const { subscribe: _push, ...client } = backend;
  return client;
}

function statusCalls(backend: MemoryJobBackend): number {
  return backend.calls.filter((c) => c.method === 'getStatus' || c.method === 'getStatuses').length;
}

/** One browser tab: its own provider (QueryClient and watcher), showing a job and notifying. */
function renderTab(client: JobClient, jobId: string, options?: UseJobNotificationsOptions) {
  return render(
    <>
      <Watch jobId={jobId} />
      <Notify options={options} />
    </>,
    { wrapper: wrapperFor(client) },
  );
}

function Watch({ jobId }: { jobId: string }) {
  useJobStatus(jobId);
  return null;
}

function Notify({ options }: { options?: UseJobNotificationsOptions }) {
  useJobNotifications(options);
  return null;
}

function wrapperFor(client: JobClient) {
  const queryClient = testQueryClient();
  return ({ children }: { children?: ReactNode }) => (
    <StrictMode>
      <JobClientProvider client={client} queryClient={queryClient}>
        {children}
      </JobClientProvider>
    </StrictMode>
  );
}

let channels: ReturnType<typeof stubBroadcastChannel>;
beforeEach(() => {
  vi.useFakeTimers();
  setVisibility('visible');
  channels = stubBroadcastChannel();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('useJobNotifications: one notification per job', () => {
  it('shows one notification when a watched job completes in a hidden page', async () => {
    const { shown } = stubNotification('granted');
    const backend = createMemoryJobBackend();
    const job = backend.create();
    renderTab(backend, job.id);
    await advance(0);
    setVisibility('hidden');

    await act(async () => void backend.complete(job.id));
    await advance(CLAIM_WINDOW_MS);
    expect(shown).toHaveLength(1);
    expect(shown[0]!.title).toBe('Job completed');
    expect(shown[0]!.options).toMatchObject({ tag: `jobwatch:${job.id}` });
    await advance(60_000);
    expect(shown).toHaveLength(1);
  });

  it('shows one notification across two tabs watching the same job', async () => {
    const { shown } = stubNotification('granted');
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const tabA = renderTab(backend, job.id);
    const tabB = renderTab(backend, job.id);
    await advance(0);
    expect([...channels.open].map((c) => c.name)).toEqual([NOTIFICATION_CHANNEL, NOTIFICATION_CHANNEL]);
    setVisibility('hidden');

    await act(async () => void backend.complete(job.id));
    await advance(CLAIM_WINDOW_MS);
    expect(shown).toHaveLength(1);
    await advance(60_000);
    expect(shown).toHaveLength(1);

    tabA.unmount();
    tabB.unmount();
    expect(channels.open.size).toBe(0);
  });

  it('does not notify again from a tab that notices the job later', async () => {
    const { shown } = stubNotification('granted');
    const backend = createMemoryJobBackend();
    const job = backend.create();
    // Tab A gets pushes; tab B polls, slowed to every 30 s while hidden.
    renderTab(backend, job.id);
    renderTab(pollingClient(backend), job.id);
    await advance(0);
    setVisibility('hidden');

    await act(async () => void backend.complete(job.id));
    await advance(CLAIM_WINDOW_MS);
    expect(shown).toHaveLength(1);
    backend.clearCalls();
    await advance(DEFAULT_HIDDEN_POLL_INTERVAL);
    // Tab B did read the finished job, and stayed quiet.
    expect(statusCalls(backend)).toBeGreaterThan(0);
    await advance(CLAIM_WINDOW_MS);
    expect(shown).toHaveLength(1);
  });

  it('shows one notification for two hooks in one tab', async () => {
    const { shown } = stubNotification('granted');
    const backend = createMemoryJobBackend();
    const job = backend.create();
    render(
      <>
        <Watch jobId={job.id} />
        <Notify />
        <Notify options={{ title: () => 'Second hook' }} />
      </>,
      { wrapper: wrapperFor(backend) },
    );
    await advance(0);
    setVisibility('hidden');
    await act(async () => void backend.complete(job.id));
    await advance(CLAIM_WINDOW_MS);
    expect(shown).toHaveLength(1);
  });

  it('shows it at once where there is no BroadcastChannel', async () => {
    vi.stubGlobal('BroadcastChannel', undefined);
    const { shown } = stubNotification('granted');
    const backend = createMemoryJobBackend();
    const job = backend.create();
    renderTab(backend, job.id);
    await advance(0);
    setVisibility('hidden');
    await act(async () => void backend.complete(job.id));
    expect(shown).toHaveLength(1);
  });
});

describe('useJobNotifications: permission', () => {
  it('shows nothing without permission, and never asks by itself', async () => {
    const { Notification, shown } = stubNotification('default');
    const backend = createMemoryJobBackend();
    const job = backend.create();
    renderTab(backend, job.id);
    await advance(0);
    setVisibility('hidden');
    await act(async () => void backend.complete(job.id));
    await advance(60_000);
    expect(shown).toHaveLength(0);
    expect(Notification.requestPermission).not.toHaveBeenCalled();
  });

  it('shows nothing when permission is denied', async () => {
    const { shown } = stubNotification('denied');
    const backend = createMemoryJobBackend();
    const job = backend.create();
    renderTab(backend, job.id);
    await advance(0);
    setVisibility('hidden');
    await act(async () => void backend.complete(job.id));
    await advance(60_000);
    expect(shown).toHaveLength(0);
  });

  it('asks for permission only when requestPermission is called, then notifies', async () => {
    const { Notification, shown } = stubNotification('default', 'granted');
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const { result } = renderHook(
      () => {
        useJobStatus(job.id);
        return useJobNotifications();
      },
      { wrapper: wrapperFor(backend) },
    );
    await advance(1000);
    expect(Notification.requestPermission).not.toHaveBeenCalled();
    expect(result.current).toMatchObject({ supported: true, permission: 'default' });

    let answer: string | undefined;
    await act(async () => {
      answer = await result.current.requestPermission();
    });
    expect(Notification.requestPermission).toHaveBeenCalledTimes(1);
    expect(answer).toBe('granted');
    expect(result.current.permission).toBe('granted');

    setVisibility('hidden');
    await act(async () => void backend.complete(job.id));
    await advance(CLAIM_WINDOW_MS);
    expect(shown).toHaveLength(1);
  });

  it('reports a denied answer', async () => {
    stubNotification('default', 'denied');
    const { result } = renderHook(() => useJobNotifications(), { wrapper: wrapperFor(createMemoryJobBackend()) });
    await act(async () => {
      await expect(result.current.requestPermission()).resolves.toBe('denied');
    });
    expect(result.current.permission).toBe('denied');
  });
});

describe('useJobNotifications: when, text and click', () => {
  it("with when: 'hidden' (the default), shows nothing while the page is visible", async () => {
    const { shown } = stubNotification('granted');
    const backend = createMemoryJobBackend();
    const job = backend.create();
    renderTab(backend, job.id);
    await advance(0);
    await act(async () => void backend.complete(job.id));
    await advance(60_000);
    expect(shown).toHaveLength(0);
  });

  it("with when: 'always', shows one while the page is visible too", async () => {
    const { shown } = stubNotification('granted');
    const backend = createMemoryJobBackend();
    const job = backend.create();
    renderTab(backend, job.id, { when: 'always' });
    await advance(0);
    await act(async () => void backend.complete(job.id));
    await advance(CLAIM_WINDOW_MS);
    expect(shown).toHaveLength(1);
  });

  it('says a job failed, with its error message', async () => {
    const { shown } = stubNotification('granted');
    const backend = createMemoryJobBackend();
    const job = backend.create();
    renderTab(backend, job.id);
    await advance(0);
    setVisibility('hidden');
    await act(async () => void backend.fail(job.id, 'GPU out of memory'));
    await advance(CLAIM_WINDOW_MS);
    expect(shown).toHaveLength(1);
    expect(shown[0]!.title).toBe('Job failed');
    expect(shown[0]!.options.body).toBe('GPU out of memory');
  });

  it('uses a custom title, body and icon, and focuses the page on click', async () => {
    const { shown } = stubNotification('granted');
    const focus = vi.spyOn(window, 'focus').mockImplementation(() => {});
    const backend = createMemoryJobBackend();
    const job = backend.create({ meta: { name: 'Q3 report' } });
    renderTab(backend, job.id, {
      title: (j) => `Export ready: ${j.meta?.name}`,
      body: () => 'Click to open',
      icon: '/icon.png',
    });
    await advance(0);
    setVisibility('hidden');
    await act(async () => void backend.complete(job.id));
    await advance(CLAIM_WINDOW_MS);
    expect(shown[0]!.title).toBe('Export ready: Q3 report');
    expect(shown[0]!.options).toMatchObject({ body: 'Click to open', icon: '/icon.png' });

    shown[0]!.onclick?.();
    expect(focus).toHaveBeenCalled();
    expect(shown[0]!.close).toHaveBeenCalled();
  });

  it('shows nothing while enabled is false', async () => {
    const { shown } = stubNotification('granted');
    const backend = createMemoryJobBackend();
    const job = backend.create();
    renderTab(backend, job.id, { enabled: false });
    await advance(0);
    setVisibility('hidden');
    await act(async () => void backend.complete(job.id));
    await advance(60_000);
    expect(shown).toHaveLength(0);
  });
});

describe('useJobNotifications: polling in a hidden tab', () => {
  function Page({ jobId, notifiers, enabled }: { jobId: string; notifiers: number; enabled?: boolean }) {
    useJobStatus(jobId);
    return (
      <>
        {Array.from({ length: notifiers }, (_, i) => (
          <Notify key={i} options={{ enabled }} />
        ))}
      </>
    );
  }

  it('turning on in the same render as a watched job delays neither its first answer nor its push', async () => {
    stubNotification('granted');
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const { result } = renderHook(
      () => {
        const status = useJobStatus(job.id);
        useJobNotifications();
        return status;
      },
      { wrapper: wrapperFor(backend) },
    );
    await advance(0);
    expect(result.current.status).toBe('pending');
    expect(result.current.connection).toBe('live');
  });

  it('slows hidden polling instead of pausing while on, and pauses again when the last hook goes', async () => {
    stubNotification('granted');
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const { rerender } = render(<Page jobId={job.id} notifiers={2} />, { wrapper: wrapperFor(pollingClient(backend)) });
    await advance(0);
    setVisibility('hidden');
    await advance(2000);

    backend.clearCalls();
    await advance(60_000);
    expect(statusCalls(backend)).toBe(2);

    // One of two hooks goes: still slowed.
    rerender(<Page jobId={job.id} notifiers={1} />);
    backend.clearCalls();
    await advance(60_000);
    expect(statusCalls(backend)).toBe(2);

    // The last one goes: paused, as without notifications.
    rerender(<Page jobId={job.id} notifiers={0} />);
    backend.clearCalls();
    await advance(120_000);
    expect(statusCalls(backend)).toBe(0);

    // Visible again: one immediate refresh.
    setVisibility('visible');
    await advance(0);
    expect(statusCalls(backend)).toBe(1);
  });

  it('pauses hidden polling once turned off with enabled: false', async () => {
    stubNotification('granted');
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const { rerender } = render(<Page jobId={job.id} notifiers={1} />, { wrapper: wrapperFor(pollingClient(backend)) });
    await advance(0);
    setVisibility('hidden');
    await advance(2000);
    backend.clearCalls();
    await advance(60_000);
    expect(statusCalls(backend)).toBe(2);

    rerender(<Page jobId={job.id} notifiers={1} enabled={false} />);
    backend.clearCalls();
    await advance(120_000);
    expect(statusCalls(backend)).toBe(0);
  });

  it('keeps pausing hidden polling without permission', async () => {
    stubNotification('default');
    const backend = createMemoryJobBackend();
    const job = backend.create();
    render(<Page jobId={job.id} notifiers={1} />, { wrapper: wrapperFor(pollingClient(backend)) });
    await advance(0);
    setVisibility('hidden');
    await advance(2000);
    backend.clearCalls();
    await advance(120_000);
    expect(statusCalls(backend)).toBe(0);
  });
});

describe('useJobNotifications: without the Notification API', () => {
  it('is a no-op with supported: false', async () => {
    vi.stubGlobal('Notification', undefined);
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const { result } = renderHook(
      () => {
        useJobStatus(job.id);
        return useJobNotifications({ when: 'always' });
      },
      { wrapper: wrapperFor(pollingClient(backend)) },
    );
    await advance(0);
    expect(result.current).toMatchObject({ supported: false, permission: 'denied' });
    await act(async () => {
      await expect(result.current.requestPermission()).resolves.toBe('denied');
    });

    // Hidden polling stays paused, and a job settling breaks nothing.
    setVisibility('hidden');
    await advance(2000);
    backend.clearCalls();
    await advance(120_000);
    expect(statusCalls(backend)).toBe(0);
    expect(channels.open.size).toBe(0);
    backend.complete(job.id);
    setVisibility('visible');
    await advance(0);
    expect(result.current.supported).toBe(false);
  });
});
