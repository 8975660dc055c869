/**
 * Streamed output of the memory backend: the parts each job keeps (trimmed to
 * `maxOutputParts`), `appendOutput`, `readOutput` and `subscribeOutput` with
 * their delivery, using the rules of `src/contract/output.ts`.
 */
import { JobRequestError } from '../contract/errors';
import { badRequest } from '../contract/listFilter';
import { checkOutputInput, MAX_OUTPUT_PAGE_PARTS, outputAfterProblem, outputLimitProblem } from '../contract/output';
import { isTerminal } from '../contract/states';
import type { JobOutputInput, JobOutputListener, JobOutputPage, JobOutputPart } from '../contract/types';
import { iso, later, microtask } from './memoryClock';
import { copy, type Entry, type OutputSubscriber } from './memoryEntry';
import { invoke } from './memoryPush';
import { answerCall, checkId, logCall, type StoreContext } from './memoryStore';
import type { MemoryJobBackend, MemoryOutputReadOptions, MemoryOutputSubscribeOptions } from './memoryTypes';

/** What the output side needs from the backend. */
export interface OutputContext extends StoreContext {
  /** Parts kept per job (≥ 1). */
  maxParts: number;
  /** Re-arms the backend's timer after an output subscription ended. */
  reschedule(): void;
}

/** The output side of one memory backend. */
export interface MemoryOutput {
  /** Appends `input` to the entry's output, stamped `at` unless it has its own; no checks (scripts, `appendOutput`). */
  append(entry: Entry, at: number, input: JobOutputInput): JobOutputPart;
  /** Delivers new parts (and `done`) to every primed output subscriber; the backend's push calls it on every flush. */
  flush(): void;
  /** The backend methods. */
  methods: Pick<MemoryJobBackend, 'readOutput' | 'subscribeOutput' | 'appendOutput'>;
}

/**
 * The page of `entry`'s output after `after`: at most `limit` parts (copies), `trimmed` when
 * parts after `after` are no longer kept, `done` when the job is terminal and no part comes after the page.
 */
export function readOutputPage(entry: Entry, after: number, limit: number): JobOutputPage {
  const { parts, lastSeq } = entry.output;
  const firstSeq = lastSeq - parts.length + 1;
  const from = Math.max(after + 1, firstSeq);
  const page = parts.slice(from - firstSeq, from - firstSeq + limit).map(copy);
  const end = page.length > 0 ? page[page.length - 1]!.seq : after;
  const done = isTerminal(entry.job) && end >= lastSeq;
  return after + 1 < firstSeq ? { parts: page, done, trimmed: true } : { parts: page, done };
}

/** Creates the output side of a memory backend. */
export function createMemoryOutput(context: OutputContext): MemoryOutput {
  const { table, clock, transact, latencyOf, maxParts, reschedule } = context;
  /** Entries with open output subscriptions, so a flush looks at those only. */
  const watched = new Set<Entry>();

  function append(entry: Entry, at: number, input: JobOutputInput): JobOutputPart {
    const { kind, text, data, url, alt } = input;
    const output = entry.output;
    const part: JobOutputPart = {
      seq: output.lastSeq + 1,
      kind,
      ...(text === undefined ? {} : { text }),
      ...(data === undefined ? {} : { data: copy(data) }),
      ...(url === undefined ? {} : { url }),
      ...(alt === undefined ? {} : { alt }),
      at: input.at ?? iso(at),
    };
    output.lastSeq = part.seq;
    output.parts.push(part);
    if (output.parts.length > maxParts) output.parts.splice(0, output.parts.length - maxParts);
    return part;
  }

  function close(entry: Entry, subscriber: OutputSubscriber): void {
    subscriber.closed = true;
    entry.output.subscribers.delete(subscriber);
    if (entry.output.subscribers.size === 0) watched.delete(entry);
  }

  /** Delivers what `subscriber` has not had yet, a page at a time; ends it after `done`. */
  function pump(entry: Entry, subscriber: OutputSubscriber): void {
    while (!subscriber.closed && subscriber.primed) {
      const page = readOutputPage(entry, subscriber.lastSeq, MAX_OUTPUT_PAGE_PARTS);
      if (page.parts.length === 0 && !page.done) return;
      const last = page.parts[page.parts.length - 1];
      if (last) subscriber.lastSeq = last.seq;
      if (page.done) close(entry, subscriber);
      const info = page.done || page.trimmed ? { ...(page.done ? { done: true } : {}), ...(page.trimmed ? { trimmed: true } : {}) } : undefined;
      invoke(() => (info ? subscriber.listener.next(page.parts, info) : subscriber.listener.next(page.parts)));
    }
  }

  function flush(): void {
    for (const entry of [...watched]) {
      for (const subscriber of [...entry.output.subscribers]) pump(entry, subscriber);
    }
  }

  /** The position option, checked as the REST contract checks `after` (400 `bad_request`). */
  function checkAfter(after: unknown): number {
    const value = after ?? 0;
    const problem = outputAfterProblem(value);
    if (problem !== null) throw badRequest(problem);
    return value as number;
  }

  function readOutput(id: string, o?: MemoryOutputReadOptions): Promise<JobOutputPage> {
    return answerCall(context, 'readOutput', [id, o], o?.signal, () => {
      checkId(id);
      const after = checkAfter(o?.after);
      const limit = o?.limit ?? MAX_OUTPUT_PAGE_PARTS;
      const problem = outputLimitProblem(limit);
      if (problem !== null) throw badRequest(problem);
      return readOutputPage(table.mustFind(id, o?.owner), after, limit);
    });
  }

  function subscribeOutput(id: string, o: MemoryOutputSubscribeOptions | undefined, listener: JobOutputListener): () => void {
    logCall(context, 'subscribeOutput', [id, o, listener]);
    const subscriber: OutputSubscriber = { listener, primed: false, closed: false, lastSeq: 0 };
    let refusal: unknown;
    const entry = transact(() => {
      try {
        checkId(id);
        subscriber.lastSeq = checkAfter(o?.after);
        return table.mustFind(id, o?.owner);
      } catch (error) {
        refusal = error;
        return undefined;
      }
    });
    if (!entry) {
      microtask(() => {
        if (subscriber.closed) return;
        subscriber.closed = true;
        invoke(() => listener.error?.(refusal));
      });
      return () => {
        subscriber.closed = true;
      };
    }
    entry.output.subscribers.add(subscriber);
    watched.add(entry);
    // The first delivery's flush pumps the catch-up and arms the timer for scripted output.
    const cancelFirst = later(latencyOf('subscribeOutput'), () => {
      if (subscriber.closed) return;
      transact(() => {
        subscriber.primed = true;
      });
    });
    return () => {
      if (subscriber.closed) return;
      cancelFirst();
      close(entry, subscriber);
      reschedule();
    };
  }

  function appendOutput(id: string, part: JobOutputInput): JobOutputPart {
    return transact(() => {
      const entry = table.mustFind(id);
      const input = checkOutputInput(part);
      if (isTerminal(entry.job)) {
        throw new JobRequestError(409, 'job_finished', `Cannot append output to job "${id}": it is already ${entry.job.status}`);
      }
      return copy(append(entry, clock.now(), input));
    });
  }

  return { append, flush, methods: { readOutput, subscribeOutput, appendOutput } };
}
