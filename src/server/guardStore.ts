import { abortError, JobTransportError } from '../contract/errors';
import type { JobRequestOptions, JobStore } from '../contract/types';
import { linkedAbortController } from './http';

/** Default of `JobHandlerOptions.storeTimeoutMs`, in ms: well above a store's own timeout (BullMQ's is 2 s), well below a client's (30 s). */
export const DEFAULT_STORE_TIMEOUT_MS = 10_000;

/** The longest timer `setTimeout` keeps (2^31 − 1 ms); longer delays fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs one store call with a deadline. The call gets its own signal, aborted
 * when the deadline passes or the caller's `signal` aborts. The promise settles
 * by then whatever the store does: after `timeoutMs` with a `JobTransportError`
 * (answered 503 `unavailable`), on the caller's abort with an `AbortError`.
 * A late answer of the store is dropped.
 */
export function callWithDeadline<T>(
  run: (signal: AbortSignal) => T | Promise<T>,
  parent: AbortSignal | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const call = linkedAbortController(parent);
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = (done: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      parent?.removeEventListener('abort', onAbort);
      call.unlink();
      done();
    };
    const onAbort = (): void => settle(() => reject(abortError()));
    if (parent?.aborted) return onAbort();
    parent?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs <= MAX_TIMER_MS) {
      timer = setTimeout(() => {
        call.abort();
        settle(() => reject(new JobTransportError(`The job store did not answer ${what} within ${timeoutMs} ms`)));
      }, timeoutMs);
    }
    try {
      Promise.resolve(run(call.signal)).then(
        (value) => settle(() => resolve(value)),
        (error: unknown) => settle(() => reject(error)),
      );
    } catch (error) {
      settle(() => reject(error));
    }
  });
}

/**
 * The store as the handler calls it: every method that returns a promise runs
 * under {@link callWithDeadline}, so no store — however it fails — can keep a
 * request waiting longer than `timeoutMs` (`Infinity`: no deadline, but an
 * aborted request still stops waiting). Optional methods are present exactly
 * when the store has them, and each call looks the store's method up anew.
 * `subscribe` and `subscribeOutput` are synchronous and pass through.
 */
export function guardStore(store: JobStore, timeoutMs: number): JobStore {
  const guarded: JobStore = {
    getStatus: (id, options) => callWithDeadline((signal) => store.getStatus(id, { ...options, signal }), options.signal, timeoutMs, 'getStatus'),
    list: (filter, options) => callWithDeadline((signal) => store.list(filter, { ...options, signal }), options.signal, timeoutMs, 'list'),
    getPendingCount: (filter, options) =>
      callWithDeadline((signal) => store.getPendingCount(filter, { ...options, signal }), options.signal, timeoutMs, 'getPendingCount'),
  };
  if (store.getStatuses) {
    guarded.getStatuses = (ids, options) =>
      callWithDeadline((signal) => store.getStatuses!(ids, { ...options, signal }), options.signal, timeoutMs, 'getStatuses');
  }
  if (store.cancel) {
    guarded.cancel = (id, options) => callWithDeadline((signal) => store.cancel!(id, { ...options, signal }), options.signal, timeoutMs, 'cancel');
  }
  if (store.retry) {
    guarded.retry = (id, options) => callWithDeadline((signal) => store.retry!(id, { ...options, signal }), options.signal, timeoutMs, 'retry');
  }
  if (store.subscribe) {
    guarded.subscribe = (id, listener, options) => store.subscribe!(id, listener, options);
  }
  if (store.readOutput) {
    guarded.readOutput = (id, options) =>
      callWithDeadline((signal) => store.readOutput!(id, { ...options, signal }), options.signal, timeoutMs, 'readOutput');
  }
  if (store.subscribeOutput) {
    guarded.subscribeOutput = (id, options, listener) => store.subscribeOutput!(id, options, listener);
  }
  if (typeof store.logPosition === 'function' && typeof store.changedSince === 'function') {
    guarded.logPosition = (options: JobRequestOptions) =>
      callWithDeadline((signal) => store.logPosition!({ ...options, signal }), options.signal, timeoutMs, 'logPosition');
    guarded.changedSince = (ids, position, options) =>
      callWithDeadline((signal) => store.changedSince!(ids, position, { ...options, signal }), options.signal, timeoutMs, 'changedSince');
  }
  return guarded;
}
