import { JobNotFoundError } from '../contract/errors';
import { isValidJobId } from '../contract/ids';
import type { JobSubscriptionListener } from '../contract/types';
import { createBackendClock } from './memoryClock';
import { DEFAULT_STORED_OUTPUT_PARTS } from '../contract/output';
import { createControls } from './memoryControls';
import { createMemoryOutput, type MemoryOutput } from './memoryOutput';
import { createJobPush, type JobPush } from './memoryPush';
import { settleScripts } from './memoryScripts';
import { createJobTable, createStoreMethods, invalidIdError, logCall } from './memoryStore';
import type { MemoryBackendCall, MemoryBackendMethod, MemoryJobBackend, MemoryJobBackendOptions, MemoryRequestOptions } from './memoryTypes';

export type {
  JobSpec,
  JobSpecOutput,
  JobSpecOutputPart,
  JobSpecStep,
  JobSpecTextOutput,
  MemoryBackendCall,
  MemoryBackendMethod,
  MemoryJobBackend,
  MemoryJobBackendOptions,
  MemoryJobSeed,
  MemoryOutputReadOptions,
  MemoryOutputSubscribeOptions,
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
 * Jobs can stream output: `appendOutput(id, part)` by hand, or a script's `output`
 * (`{ output: { text: 'Once upon a time…' }, runningMs: 4000 }`), read with
 * `readOutput` and pushed by `subscribeOutput`, as a JobClient and as a JobStore.
 *
 * The parts live in their own modules: the clock (`memoryClock`), the jobs,
 * owners, paging and JobStore methods (`memoryStore`), scripts
 * (`memoryScripts`, `memoryOutputScript`), the controls (`memoryControls`), push
 * (`memoryPush`) and output (`memoryOutput`).
 */
export function createMemoryJobBackend(options: MemoryJobBackendOptions = {}): MemoryJobBackend {
  const calls: MemoryBackendCall[] = [];
  const { maxOutputParts = DEFAULT_STORED_OUTPUT_PARTS } = options;
  if (!Number.isSafeInteger(maxOutputParts) || maxOutputParts < 1) {
    throw new RangeError(`maxOutputParts must be an integer ≥ 1, got ${String(maxOutputParts)}`);
  }
  const clock = createBackendClock(options.now);

  function latencyOf(method: MemoryBackendMethod): number {
    const { latencyMs = 0 } = options;
    return typeof latencyMs === 'function' ? latencyMs(method) : latencyMs;
  }

  // The table reports every change to push; push plays due scripted changes (and output) of the
  // table's jobs and has the output side deliver new parts on every flush.
  const table = createJobTable((entry, job) => push.record(entry, job));
  const push: JobPush = createJobPush({
    clock,
    entries: () => table.entries.values(),
    settle: () => settleScripts(table.entries, clock.now(), table.update, output.append),
    flushOutput: () => output.flush(),
  });
  const { transact } = push;
  const store = createStoreMethods({ table, clock, transact, calls, latencyOf });
  const output: MemoryOutput = createMemoryOutput({
    table,
    clock,
    transact,
    calls,
    latencyOf,
    maxParts: maxOutputParts,
    reschedule: push.reschedule,
  });
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
    ...output.methods,
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
