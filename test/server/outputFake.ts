import { JobNotFoundError } from '../../src/contract/errors';
import { isTerminal } from '../../src/contract/states';
import type { JobOutputListener, JobOutputPage, JobOutputPart, JobStore } from '../../src/contract/types';
import { createMemoryJobBackend, type MemoryJobBackend } from '../../src/testing';

/** One readOutput call the handler made. */
export interface OutputRead {
  id: string;
  owner: string;
  after: number | undefined;
  limit: number | undefined;
}

/**
 * A small job store with output, written for these tests: status comes from the memory
 * backend, output from here. Pushes deliver only new parts (no catch-up, unlike the memory
 * backend), then `next([], { done: true })` when the job completes. Reads can be held, to put
 * pushes in the middle of a read.
 */
export function createOutputFake(options: { push?: boolean; keep?: number } = {}) {
  const backend: MemoryJobBackend = createMemoryJobBackend();
  const owners = new Map<string, string>();
  const parts = new Map<string, JobOutputPart[]>();
  const lastSeq = new Map<string, number>();
  const listeners = new Map<string, Set<JobOutputListener>>();
  const reads: OutputRead[] = [];
  let held: Array<() => void> | null = null;
  let active = 0;
  let subscribed = 0;

  function mustOwn(id: string, owner: string): void {
    if (owners.get(id) !== owner) throw new JobNotFoundError(id);
  }

  function page(id: string, after: number, limit: number): JobOutputPage {
    const kept = parts.get(id) ?? [];
    const firstKept = kept[0]?.seq ?? (lastSeq.get(id) ?? 0) + 1;
    const list = kept.filter((part) => part.seq > after).slice(0, limit);
    const end = list.at(-1)?.seq ?? after;
    const done = isTerminal(backend.get(id)!) && end >= (lastSeq.get(id) ?? 0);
    return after + 1 < firstKept && kept.length > 0 ? { parts: list, done, trimmed: true } : { parts: list, done };
  }

  const store: JobStore = {
    getStatus: (id, o) => backend.getStatus(id, o),
    getStatuses: (ids, o) => backend.getStatuses(ids, o),
    list: (filter, o) => backend.list(filter, o),
    getPendingCount: (filter, o) => backend.getPendingCount(filter, o),
    subscribe: (id, listener, o) => backend.subscribe(id, listener, o),
    async readOutput(id, o) {
      reads.push({ id, owner: o.owner, after: o.after, limit: o.limit });
      if (held) await new Promise<void>((resolve) => held!.push(resolve));
      mustOwn(id, o.owner);
      return page(id, o.after ?? 0, o.limit ?? 500);
    },
  };
  if (options.push !== false) {
    store.subscribeOutput = (id, o, listener) => {
      if (owners.get(id) !== o.owner) {
        queueMicrotask(() => listener.error?.(new JobNotFoundError(id)));
        return () => {};
      }
      active += 1;
      subscribed += 1;
      const set = listeners.get(id) ?? new Set();
      listeners.set(id, set);
      set.add(listener);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        active -= 1;
        set.delete(listener);
      };
    };
  }

  return {
    backend,
    store,
    reads,
    /** Output subscriptions the handler holds now, and ever opened. */
    active: () => active,
    subscribed: () => subscribed,
    create(id: string, owner = 'alice') {
      owners.set(id, owner);
      parts.set(id, []);
      lastSeq.set(id, 0);
      return backend.create({ id, owner });
    },
    /** Appends text parts (`'t3'` for seq 3 unless given) and pushes them, one push per part. */
    append(id: string, count = 1, text?: (seq: number) => string): JobOutputPart[] {
      const added: JobOutputPart[] = [];
      for (let i = 0; i < count; i++) {
        const seq = (lastSeq.get(id) ?? 0) + 1;
        lastSeq.set(id, seq);
        const part: JobOutputPart = { seq, kind: 'text', text: text ? text(seq) : `t${seq}`, at: new Date(backend.now()).toISOString() };
        const kept = parts.get(id)!;
        kept.push(part);
        if (options.keep !== undefined && kept.length > options.keep) kept.splice(0, kept.length - options.keep);
        added.push(part);
        for (const listener of [...(listeners.get(id) ?? [])]) listener.next([part]);
      }
      return added;
    },
    /** Completes the job and pushes `done`. */
    finish(id: string) {
      const job = backend.complete(id);
      for (const listener of [...(listeners.get(id) ?? [])]) listener.next([], { done: true });
      return job;
    },
    /** Holds every read from now on until `release()`. */
    hold() {
      held = [];
    },
    release() {
      const waiting = held ?? [];
      held = null;
      for (const resolve of waiting) resolve();
    },
  };
}
