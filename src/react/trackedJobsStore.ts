import type { OutputResume } from './outputResume';

/**
 * Where {@link useTrackedJobs} keeps job ids: the part of the Web Storage API
 * it uses, so `localStorage`, `sessionStorage` or your own object fit.
 * Calls may throw (storage disabled, quota exceeded): the ids are then kept
 * in memory only.
 */
export interface JobIdStorage {
  /** The stored string, or `null` when there is none. */
  getItem(key: string): string | null;
  /** Stores a string. */
  setItem(key: string, value: string): void;
  /** Deletes the entry (used once no id is left). */
  removeItem(key: string): void;
}

/** Most ids kept per key; tracking one more forgets the oldest. */
export const MAX_TRACKED_JOBS = 100;

/** The storage key of a tracked-jobs list. */
export const trackedJobsStorageKey = (key: string): string => `jobwatch:tracked:${key}`;

/** @internal One list of tracked ids, shared by every hook using the same storage object and key. */
export interface TrackedJobsStore {
  subscribe(listener: () => void): () => void;
  getSnapshot(): readonly string[];
  track(id: string): void;
  untrack(ids: string | readonly string[]): void;
  clear(): void;
  /** The last output part shown of tracked `id` (see `useJobOutput`), 0 when none is known or `id` is not tracked. */
  lastSeq(id: string): number;
  /** Remembers the last output part shown of tracked `id` with the ids (ignored for an id not tracked). Changes no snapshot. */
  setLastSeq(id: string, seq: number): void;
}

/** What is stored under a key: the ids and, once `useJobOutput` showed some, the last output part per id. */
export interface TrackedList {
  /** The tracked ids, oldest first. */
  ids: readonly string[];
  /** The last output `seq` shown per tracked id (ids without one are absent). */
  seqs: ReadonlyMap<string, number>;
}

const EMPTY: readonly string[] = Object.freeze([]);


/**
 * Reads stored content: a JSON array of ids, optionally ending with one object
 * `{ "seq": { "<id>": <last output seq shown> } }` (written once `useJobOutput` showed
 * output of a tracked id; older versions, which read only the strings of the array, still
 * see the ids). Anything that is not such an array counts as empty; never throws.
 */
export function parseTrackedList(raw: string | null): TrackedList {
  if (raw === null) return { ids: EMPTY, seqs: new Map() };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ids: EMPTY, seqs: new Map() };
  }
  if (!Array.isArray(value)) return { ids: EMPTY, seqs: new Map() };
  const unique = [...new Set(value.filter((id): id is string => typeof id === 'string' && id !== ''))];
  const ids = unique.length === 0 ? EMPTY : Object.freeze(unique.slice(-MAX_TRACKED_JOBS));
  const stored: unknown = (value.at(-1) as { seq?: unknown } | null)?.seq;
  if (typeof stored !== 'object' || stored === null) return { ids, seqs: new Map() };
  const seqs = new Map<string, number>();
  for (const id of ids) {
    const seq = (stored as Record<string, unknown>)[id];
    if (Number.isSafeInteger(seq) && (seq as number) > 0) seqs.set(id, seq as number);
  }
  return { ids, seqs };
}

/** Reads the stored ids (see {@link parseTrackedList}); never throws. */
export function parseTrackedIds(raw: string | null): readonly string[] {
  return parseTrackedList(raw).ids;
}

/** The stored form of `ids` and their `seqs` (see {@link parseTrackedList}): a plain array of ids while no seq is known. */
export function formatTrackedList(ids: readonly string[], seqs: ReadonlyMap<string, number>): string {
  const seq: Record<string, number> = {};
  let any = false;
  for (const id of ids) {
    const value = seqs.get(id);
    if (value === undefined) continue;
    seq[id] = value;
    any = true;
  }
  return JSON.stringify(any ? [...ids, { seq }] : ids);
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/**
 * The same-tab event by which stores of one storage and key in different
 * providers stay one list (the `storage` event only tells other tabs). An
 * announcement carries a store's new ids; a question (`ask`) is answered, by a
 * store keeping ids its storage could not take, with those ids.
 */
const SYNC_EVENT = 'jobwatch:tracked-jobs';

interface SyncDetail {
  storage: JobIdStorage;
  key: string;
  source: object;
  ids?: readonly string[];
  inMemory?: boolean;
  ask?: boolean;
}

function sync(detail: SyncDetail): SyncDetail {
  if (typeof window !== 'undefined') window.dispatchEvent(new CustomEvent(SYNC_EVENT, { detail }));
  return detail;
}

function createTrackedJobsStore(storage: JobIdStorage, key: string): TrackedJobsStore {
  const storageKey = trackedJobsStorageKey(key);
  const listeners = new Set<() => void>();
  const self = {};
  let ids: readonly string[] | null = null;
  /** The last output seq shown per tracked id, as last read or written. */
  let seqs = new Map<string, number>();
  /** A read or write failed (storage disabled or full): from then on the ids this tab knows are kept in memory. */
  let inMemory = false;
  let stopListening: (() => void) | null = null;

  /** The stored ids, or `null` when storage is not to be (or cannot be) read. */
  function read(): readonly string[] | null {
    if (inMemory) return null;
    try {
      const list = parseTrackedList(storage.getItem(storageKey));
      seqs = new Map(list.seqs);
      return list.ids;
    } catch {
      inMemory = true;
      return null;
    }
  }

  /** While nobody listens, storage may change unseen (another tab): read it again, keeping the array when equal. */
  function current(): readonly string[] {
    if (ids === null) {
      // Another provider's store may hold ids its storage could not take.
      const answer = sync({ storage, key, source: self, ask: true }).ids;
      if (answer) {
        ids = answer;
        inMemory = true;
      }
    }
    if (ids === null || listeners.size === 0) {
      const next = read();
      if (next && (ids === null || !sameIds(ids, next))) ids = next;
    }
    return ids ?? EMPTY;
  }

  function emit(): void {
    for (const listener of [...listeners]) listener();
  }

  /** Takes in the seqs another store (provider or tab) wrote meanwhile: the larger of two wins. */
  function mergeStoredSeqs(): void {
    if (inMemory) return;
    try {
      for (const [id, seq] of parseTrackedList(storage.getItem(storageKey)).seqs) {
        if ((seqs.get(id) ?? 0) < seq) seqs.set(id, seq);
      }
    } catch {
      inMemory = true;
    }
  }

  /** Stores the ids and their seqs (falling back to memory when storage refuses). */
  function store(next: readonly string[]): void {
    mergeStoredSeqs();
    for (const id of [...seqs.keys()]) if (!next.includes(id)) seqs.delete(id);
    try {
      if (next.length === 0) storage.removeItem(storageKey);
      else storage.setItem(storageKey, formatTrackedList(next, seqs));
    } catch {
      inMemory = true;
    }
  }

  function write(next: readonly string[]): void {
    if (sameIds(current(), next)) return;
    ids = next.length === 0 ? EMPTY : Object.freeze([...next]);
    store(ids);
    sync({ storage, key, source: self, ids, inMemory });
    // Storage could not take the ids: keep answering for them, also once nobody listens here.
    if (inMemory) listen();
    emit();
  }

  function refresh(): void {
    const next = read();
    if (!next || (ids !== null && sameIds(ids, next))) return;
    ids = next;
    emit();
  }

  /** Another tab wrote the same storage: re-read it. */
  function onStorage(event: StorageEvent): void {
    if (event.storageArea !== null && event.storageArea !== (storage as unknown)) return;
    if (event.key !== null && event.key !== storageKey) return;
    refresh();
  }

  /** Another store of this storage and key (another provider in this tab) changed the list, or asks for it. */
  function onSync(event: Event): void {
    const detail = (event as CustomEvent<SyncDetail>).detail;
    if (detail.storage !== storage || detail.key !== key || detail.source === self) return;
    if (detail.ask) {
      if (inMemory && ids) detail.ids ??= ids;
      return;
    }
    if (detail.inMemory) inMemory = true;
    const next = detail.ids ?? EMPTY;
    if (ids !== null && sameIds(ids, next)) return;
    ids = next;
    emit();
  }

  function listen(): void {
    if (stopListening || typeof window === 'undefined') return;
    window.addEventListener('storage', onStorage);
    window.addEventListener(SYNC_EVENT, onSync);
    stopListening = () => {
      window.removeEventListener('storage', onStorage);
      window.removeEventListener(SYNC_EVENT, onSync);
    };
  }

  return {
    subscribe(listener) {
      listeners.add(listener);
      if (listeners.size === 1 && typeof window !== 'undefined') {
        // Whatever another tab changed while nobody listened shows now.
        refresh();
        listen();
      }
      return () => {
        listeners.delete(listener);
        // Ids kept in memory only stay reachable for the stores of other providers.
        if (listeners.size === 0 && !inMemory) {
          stopListening?.();
          stopListening = null;
        }
      };
    },
    getSnapshot: current,
    track(id) {
      if (typeof id !== 'string' || id === '') return;
      const list = current();
      if (list.includes(id)) return;
      write([...list, id].slice(-MAX_TRACKED_JOBS));
    },
    untrack(remove) {
      const gone = new Set(typeof remove === 'string' ? [remove] : remove);
      write(current().filter((id) => !gone.has(id)));
    },
    clear() {
      write(EMPTY);
    },
    lastSeq(id) {
      if (!current().includes(id)) return 0;
      mergeStoredSeqs();
      return seqs.get(id) ?? 0;
    },
    setLastSeq(id, seq) {
      const list = current();
      if (!list.includes(id) || !Number.isSafeInteger(seq) || seq <= 0 || seqs.get(id) === seq) return;
      seqs.set(id, seq);
      store(list);
    },
  };
}

/**
 * @internal The tracked-jobs lists of one provider (kept in its context's `local`):
 * hooks of the provider with the same storage and key share one store; stores
 * of other providers on the same storage and key follow it through a same-tab
 * event. Without `storage`: `localStorage`, else a memory storage of this provider.
 */
export function trackedJobsStores(): TrackedJobsStores {
  const stores = new WeakMap<JobIdStorage, Map<string, TrackedJobsStore>>();
  const made = new Set<TrackedJobsStore>();
  let memory: JobIdStorage | null = null;
  const find = (given: JobIdStorage | undefined, key: string): TrackedJobsStore => {
    // On the server (no window) this picks the memory fallback, which the hook never reads there.
    const storage = given ?? browserJobIdStorage() ?? (memory ??= createMemoryJobIdStorage());
    let byKey = stores.get(storage);
    if (!byKey) {
      byKey = new Map();
      stores.set(storage, byKey);
    }
    let store = byKey.get(key);
    if (!store) {
      store = createTrackedJobsStore(storage, key);
      byKey.set(key, store);
      made.add(store);
    }
    return store;
  };
  return Object.assign(find, {
    tracking: (id: string) => [...made].filter((store) => store.getSnapshot().includes(id)),
  });
}

/** @internal The tracked-jobs stores of one provider: the store of a storage and key, and the stores tracking an id. */
export interface TrackedJobsStores {
  (storage: JobIdStorage | undefined, key: string): TrackedJobsStore;
  /** The stores of this provider (made by a `useTrackedJobs` so far) whose list holds `id`. */
  tracking(id: string): TrackedJobsStore[];
}

/** A storage living in memory: the fallback where there is no `localStorage`. */
export function createMemoryJobIdStorage(): JobIdStorage {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, String(value)),
    removeItem: (key) => void items.delete(key),
  };
}

/** `window.localStorage`, or `null` where there is none or reading it throws (disabled, sandboxed). Call it outside render on the server. */
export function browserJobIdStorage(): JobIdStorage | null {
  if (typeof window === 'undefined') return null;
  try {
    return window.localStorage ?? null;
  } catch {
    return null;
  }
}

/** How often, at most, the last shown output `seq` of a tracked id is written to its storage (ms). */
const SEQ_WRITE_INTERVAL_MS = 1000;

/**
 * @internal Fills a provider's output resume points from its tracked-jobs stores (once; later
 * calls change nothing): the last part shown of a tracked id is read from, and written to,
 * every list of the provider holding it — at once, then at most once per
 * {@link SEQ_WRITE_INTERVAL_MS} per id, and what is pending when a hook stops.
 */
export function fillOutputResume(resume: OutputResume, stores: TrackedJobsStores): void {
  if (resume.shown) return;
  /** Per id: the last seq shown, the last one written, and the throttle timer. */
  const pending = new Map<string, { seq: number; written: number; timer: ReturnType<typeof setTimeout> | null }>();
  const remember = (id: string, seq: number) => {
    for (const store of stores.tracking(id)) store.setLastSeq(id, seq);
  };
  const write = (id: string) => {
    const state = pending.get(id)!;
    if (state.seq === state.written) return;
    state.written = state.seq;
    remember(id, state.seq);
    state.timer = setTimeout(() => {
      state.timer = null;
      write(id);
    }, SEQ_WRITE_INTERVAL_MS);
  };
  resume.lastShown = (id) => Math.max(0, ...stores.tracking(id).map((store) => store.lastSeq(id)));
  resume.shown = (id, seq) => {
    let state = pending.get(id);
    if (!state) pending.set(id, (state = { seq, written: 0, timer: null }));
    state.seq = seq;
    if (!state.timer) write(id);
  };
  resume.flush = (id) => {
    const state = pending.get(id);
    if (!state) return;
    if (state.timer) clearTimeout(state.timer);
    if (state.seq !== state.written) remember(id, state.seq);
    pending.delete(id);
  };
}
