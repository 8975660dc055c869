/** Fakes shared by the watcher-level tests (test/core/watcher.behaviour*.test.ts, test/core/precedence.test.ts). */
import { createJobWatcher, JobTransportError, type JobClient, type JobWatcherEnvironment, type JobWatcherOptions } from '../../src/core';
import type { MemoryJobBackend } from '../../src/testing';

/** The backend as a polling client (no push). */
export function pollingClient(backend: MemoryJobBackend): JobClient {
  const { subscribe: _push, ...client } = backend;
  return client;
}

/** Status reads the backend saw (single and batch). */
export const reads = (backend: MemoryJobBackend) => backend.calls.filter((c) => c.method === 'getStatus' || c.method === 'getStatuses').length;

/** A page whose visibility and connectivity the test sets. */
export function page() {
  let visible = true;
  let online = true;
  const listeners = new Set<() => void>();
  const environment: JobWatcherEnvironment = {
    isVisible: () => visible,
    isOnline: () => online,
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
  const emit = () => [...listeners].forEach((l) => l());
  return {
    environment,
    setVisible: (value: boolean) => ((visible = value), emit()),
    setOnline: (value: boolean) => ((online = value), emit()),
  };
}

/** A push client over the backend whose subscriptions the test can break, drop or refuse. */
export function pushClient(backend: MemoryJobBackend) {
  const listeners = new Set<{ error?(e: unknown): void; disconnected?(e: unknown): void }>();
  let subscribes = 0;
  let refusing = false;
  const client: JobClient = {
    ...backend,
    subscribe(id, listener) {
      subscribes += 1;
      if (refusing) {
        queueMicrotask(() => listener.error?.(new JobTransportError('stream refused', { status: 503 })));
        return () => {};
      }
      const off = backend.subscribe(id, listener);
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
        off();
      };
    },
  };
  return {
    client,
    active: () => listeners.size,
    subscribes: () => subscribes,
    breakAll: (error: unknown) => [...listeners].forEach((l) => l.error?.(error)),
    dropAll: (error: unknown) => [...listeners].forEach((l) => l.disconnected?.(error)),
    refuse: (value: boolean) => void (refusing = value),
  };
}

/** A watcher over `client` with no page environment unless given one. */
export const watcherOf = (client: JobClient, options: Partial<JobWatcherOptions> = {}) =>
  createJobWatcher({ client, environment: null, ...options });

