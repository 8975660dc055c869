import { JobNotFoundError } from '../contract/errors';
import { isValidJobId } from '../contract/ids';
import type { JobSubscriptionListener } from '../contract/types';
import { createBackendClock } from './memoryClock';
import { createControls } from './memoryControls';
import { createJobPush, type JobPush } from './memoryPush';
import { settleScripts } from './memoryScripts';
import { createJobTable, createStoreMethods, invalidIdError, logCall } from './memoryStore';
import type { MemoryBackendCall, MemoryBackendMethod, MemoryJobBackend, MemoryJobBackendOptions, MemoryRequestOptions } from './memoryTypes';

export type {
  JobSpec,
  JobSpecStep,
  MemoryBackendCall,
  MemoryBackendMethod,
  MemoryJobBackend,
  MemoryJobBackendOptions,
  MemoryJobSeed,
  MemoryRequestOptions,
} from './memoryTypes';

/**
 * Creates an in-memory job backend with a controllable clock: the reference
 * implementation of the client contract, for tests, stories and demos.
 *
 * Time is `options.now()` (default `Date.now`) plus whatever `advance` added.
 * Scripted changes are applied when something reads (or `advance`s), in time
 * order across jobs, each stamped with its own time; while anyone subscribes,
 * a timer applies them on time. Every backend is independent.
 *
 * @example
 * const backend = createMemoryJobBackend();
 * const job = backend.create({ queuedMs: 1000, runningMs: 5000, steps: ['Rendering', 'Saving'] });
 * backend.advance(3500); // processing, "Rendering" → "Saving"
 *
 * The parts live in their own modules: the clock (`memoryClock`), the jobs,
 * owners, paging and JobStore methods (`memoryStore`), scripts
 * (`memoryScripts`), the controls (`memoryControls`) and push (`memoryPush`).
 */
export function createMemoryJobBackend(options: MemoryJobBackendOptions = {}): MemoryJobBackend {
  const calls: MemoryBackendCall[] = [];
  const clock = createBackendClock(options.now);

  function latencyOf(method: MemoryBackendMethod): number {
    const { latencyMs = 0 } = options;
    return typeof latencyMs === 'function' ? latencyMs(method) : latencyMs;
  }

  // The table reports every change to push; push plays due scripted changes of the table's jobs.
  const table = createJobTable((entry, job) => push.record(entry, job));
  const push: JobPush = createJobPush({
    clock,
    entries: () => table.entries.values(),
    settle: () => settleScripts(table.entries, clock.now(), table.update),
  });
  const { transact } = push;
  const store = createStoreMethods({ table, clock, transact, calls, latencyOf });
  const controls = createControls({ table, clock, transact });

  function subscribe(id: string, listener: JobSubscriptionListener, o?: Pick<MemoryRequestOptions, 'owner'>): () => void {
    logCall({ calls, clock }, 'subscribe', [id, listener, o]);
    // An id the contract refuses is a bad request, as the server's event stream answers it; an unknown one is not found.
    const valid = isValidJobId(id);
    const entry = transact(() => (valid ? table.find(id, o?.owner) : undefined));
    return push.attach(entry, listener, () => latencyOf('subscribe'), () => (valid ? new JobNotFoundError(id) : invalidIdError(id)));
  }

  function clearCalls(): void {
    calls.length = 0;
  }

  for (const item of options.jobs ?? []) {
    if ('status' in item) controls.seed(item);
    else controls.create(item);
  }

  return {
    ...store,
    subscribe,
    create: controls.create,
    advance: controls.advance,
    start: controls.start,
    progress: controls.progress,
    complete: controls.complete,
    fail: controls.fail,
    get: controls.get,
    jobs: controls.jobs,
    calls,
    clearCalls,
    now: clock.now,
  };
}
