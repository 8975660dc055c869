import { JobNotFoundError } from '../contract/errors';
import { MAX_OUTPUT_PAGE_PARTS, MAX_OUTPUT_PART_LENGTH, parseOutputParts, type JobOutputEvent } from '../contract/output';
import type { JobOutputPart, JobStore } from '../contract/types';
import { checkOutputPage } from './outputRoute';

/**
 * The most JSON text of parts one `output` event carries (256 KiB, the size of the largest
 * part): bigger batches are split, so every data line stays far below a client's line cap.
 * A single part is never cut; one event holds at least one part.
 */
export const MAX_OUTPUT_EVENT_LENGTH = MAX_OUTPUT_PART_LENGTH;

/**
 * Parts pushed but not yet sent that one output id may hold. Past it while the stream waits
 * for the client to read, the client is too far behind and is dropped (it resumes from its
 * last part); past it otherwise (a slow store read), the parts are forgotten and read back
 * from the store.
 */
const MAX_PENDING_PARTS = MAX_OUTPUT_PAGE_PARTS;

/** What the output feeds need from their event stream. */
export interface OutputFeedsContext {
  /** The store; the handler only opens feeds when it has `readOutput`. */
  store: JobStore;
  /** The caller the stream was opened for: every store call is made for them. */
  owner: string;
  /** Aborted when the stream ends: every read in flight stops. */
  signal: AbortSignal;
  /** How often a store without `subscribeOutput` is read for new parts, in ms. */
  pollIntervalMs: number;
  /** The `id:` of an event sent now (the stream's position scheme). */
  eventId(): string;
  /** Sends one event's text (the stream drops a client too far behind). */
  send(text: string): void;
  /** Resolves once `bytes` more fit in the stream's buffer, or the stream ended. */
  room(bytes: number): Promise<void>;
  /** Whether the stream is still open. */
  isOpen(): boolean;
  /** Drops the client (the stream ends cleanly; it reconnects and resumes). */
  drop(): void;
  /** A store failure: the stream reports it (unless expected) and ends. */
  fail(error: unknown): void;
  /** The store does not know the id (or it is another owner's): the stream sends `missing`. */
  missing(id: string): void;
  /** A feed ended: the stream ends once nothing is left to send. */
  settled(): void;
}

interface Feed {
  id: string;
  /** The last seq sent on this stream (or, at first, the client's position). */
  sent: number;
  /** Pushed parts not sent yet, by seq (all greater than `sent`). */
  pending: Map<number, JobOutputPart>;
  /** A read of the store is due. */
  wantRead: boolean;
  /** The push said the job is terminal; `lastSeq` is its last part when the push named it. */
  terminal: boolean;
  lastSeq: number | null;
  /** The pump runs (one per feed, so sends never interleave or repeat). */
  running: boolean;
  /** The pump waits for the client to read. */
  waiting: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  unsubscribe: (() => void) | null;
}

/** The output feeds of one event stream. */
export interface OutputFeeds {
  /** Opens a feed per `[id, after]`: parts after `after`, then new ones as they come. */
  start(entries: ReadonlyArray<readonly [id: string, after: number]>): void;
  /** Ends one id's feed (its job went missing). */
  stop(id: string): void;
  /** Ends every feed (the stream closes). */
  stopAll(): void;
  /** How many feeds still run. */
  size(): number;
}

const encoder = new TextEncoder();

/** Splits parts into events of at most {@link MAX_OUTPUT_EVENT_LENGTH} JSON and `MAX_OUTPUT_PAGE_PARTS` parts. */
export function splitOutputParts(parts: JobOutputPart[]): JobOutputPart[][] {
  const chunks: JobOutputPart[][] = [];
  let chunk: JobOutputPart[] = [];
  let length = 0;
  for (const part of parts) {
    const size = JSON.stringify(part).length + 1;
    if (chunk.length > 0 && (length + size > MAX_OUTPUT_EVENT_LENGTH || chunk.length >= MAX_OUTPUT_PAGE_PARTS)) {
      chunks.push(chunk);
      chunk = [];
      length = 0;
    }
    chunk.push(part);
    length += size;
  }
  if (chunk.length > 0 || chunks.length === 0) chunks.push(chunk);
  return chunks;
}

/**
 * The output half of the event stream. For each id: the parts after the client's position
 * (read from the store a page at a time, paced by how fast the client reads), then live parts
 * from `store.subscribeOutput`, or from `readOutput` every `pollIntervalMs` without it. Pushes
 * and reads may overlap: parts are de-duplicated by seq, so none is sent twice or skipped on
 * one connection, and a gap in what was pushed is filled by a read. Once the job is terminal
 * and its last part was sent, one event with `done: true` ends the id's output.
 */
export function createOutputFeeds(context: OutputFeedsContext): OutputFeeds {
  const { store, owner, signal } = context;
  const feeds = new Map<string, Feed>();

  const alive = (feed: Feed): boolean => feeds.get(feed.id) === feed && context.isOpen();

  function close(feed: Feed): void {
    if (feeds.get(feed.id) !== feed) return;
    feeds.delete(feed.id);
    clearTimeout(feed.timer);
    const unsubscribe = feed.unsubscribe;
    feed.unsubscribe = null;
    try {
      unsubscribe?.();
    } catch (error) {
      context.fail(error);
    }
  }

  function finish(feed: Feed): void {
    close(feed);
    context.settled();
  }

  /** Sends `parts` (those after `sent`) as events, each when the client has room for it. */
  async function emit(feed: Feed, parts: JobOutputPart[], flags: { done?: boolean; trimmed?: boolean }): Promise<void> {
    const fresh = parts.filter((part) => part.seq > feed.sent);
    if (fresh.length === 0 && !flags.done) return;
    const chunks = splitOutputParts(fresh);
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      const event: JobOutputEvent = { id: feed.id, parts: chunk };
      if (i === 0 && flags.trimmed) event.trimmed = true;
      if (i === chunks.length - 1 && flags.done) event.done = true;
      const data = JSON.stringify(event);
      feed.waiting = true;
      await context.room(encoder.encode(data).byteLength + 64);
      feed.waiting = false;
      if (!alive(feed)) return;
      context.send(`id: ${context.eventId()}\nevent: output\ndata: ${data}\n\n`);
      const last = chunk.at(-1);
      if (last) feed.sent = last.seq;
      for (const seq of feed.pending.keys()) if (seq <= feed.sent) feed.pending.delete(seq);
    }
  }

  /** The pushed parts that follow `sent` without a gap (from the first pending one with `fromGap`). */
  function contiguous(feed: Feed, fromGap: boolean): JobOutputPart[] {
    const chain: JobOutputPart[] = [];
    let next = fromGap && feed.pending.size > 0 ? Math.min(...feed.pending.keys()) : feed.sent + 1;
    for (let part = feed.pending.get(next); part; part = feed.pending.get(++next)) chain.push(part);
    return chain;
  }

  async function pump(feed: Feed): Promise<void> {
    if (feed.running || !alive(feed)) return;
    feed.running = true;
    try {
      /** A read found nothing where pushed parts follow a gap: the store no longer has the parts between. */
      let unfillable = false;
      for (;;) {
        if (!alive(feed)) return;
        if (feed.wantRead) {
          feed.wantRead = false;
          const range = { after: feed.sent, limit: MAX_OUTPUT_PAGE_PARTS };
          const page = checkOutputPage(await store.readOutput!(feed.id, { owner, signal, ...range }), feed.id, range);
          if (!alive(feed)) return;
          const first = page.parts[0];
          await emit(feed, page.parts, { done: page.done, trimmed: !!page.trimmed && first !== undefined && first.seq > feed.sent + 1 });
          if (!alive(feed)) return;
          if (page.done) return finish(feed);
          if (page.parts.length >= range.limit) {
            feed.wantRead = true;
            continue;
          }
          unfillable = page.parts.length === 0 && feed.pending.size > 0;
          if (feed.terminal && feed.pending.size === 0) {
            // The store pushed the end, and the read after it found nothing more.
            await emit(feed, [], { done: true });
            return finish(feed);
          }
          continue;
        }
        const chain = contiguous(feed, unfillable);
        if (chain.length > 0) {
          const last = chain.at(-1)!.seq;
          const done = feed.terminal && feed.lastSeq !== null && last >= feed.lastSeq;
          await emit(feed, chain, { done, trimmed: unfillable });
          unfillable = false;
          if (done && alive(feed)) return finish(feed);
          continue;
        }
        if (feed.pending.size > 0 || feed.terminal) {
          feed.wantRead = true;
          continue;
        }
        break;
      }
    } catch (error) {
      if (!alive(feed)) return;
      close(feed);
      if (error instanceof JobNotFoundError) context.missing(feed.id);
      else context.fail(error);
      context.settled();
      return;
    } finally {
      feed.running = false;
    }
    if (alive(feed) && !store.subscribeOutput) {
      feed.timer = setTimeout(() => {
        feed.timer = undefined;
        feed.wantRead = true;
        void pump(feed);
      }, context.pollIntervalMs);
    }
  }

  function onPush(feed: Feed, value: unknown, info: { done?: boolean } | undefined): void {
    if (!alive(feed)) return;
    let parts: JobOutputPart[];
    try {
      parts = parseOutputParts(value);
    } catch (error) {
      close(feed);
      context.fail(new TypeError(`store.subscribeOutput("${feed.id}") pushed invalid parts: ${(error as Error).message}`, { cause: error }));
      return;
    }
    for (const part of parts) if (part.seq > feed.sent) feed.pending.set(part.seq, part);
    if (info?.done) {
      feed.terminal = true;
      const last = parts.at(-1);
      if (last) feed.lastSeq = Math.max(feed.lastSeq ?? 0, last.seq);
    }
    if (feed.pending.size > MAX_PENDING_PARTS) {
      if (feed.waiting) return context.drop();
      // Kept in the store: read back rather than held here.
      feed.pending.clear();
      feed.wantRead = true;
    }
    void pump(feed);
  }

  function onError(feed: Feed, error: unknown): void {
    if (!alive(feed)) return;
    close(feed);
    if (error instanceof JobNotFoundError) context.missing(feed.id);
    else context.fail(error);
    context.settled();
  }

  return {
    start(entries) {
      for (const [id, after] of entries) {
        if (!context.isOpen()) return;
        if (feeds.has(id)) continue;
        const feed: Feed = {
          id,
          sent: after,
          pending: new Map(),
          wantRead: true,
          terminal: false,
          lastSeq: null,
          running: false,
          waiting: false,
          timer: undefined,
          unsubscribe: null,
        };
        feeds.set(id, feed);
        if (store.subscribeOutput) {
          // Subscribed before the first read: a part appended in between is pushed, and de-duplicated.
          const unsubscribe = store.subscribeOutput(
            id,
            { after, owner },
            {
              next: (parts, info) => onPush(feed, parts, info),
              error: (error) => onError(feed, error),
              // The store lost its own connection: end the stream so the client resumes on a fresh one.
              disconnected: (error) => onError(feed, error),
            },
          );
          if (feeds.get(id) === feed) feed.unsubscribe = unsubscribe;
          else unsubscribe();
        }
        void pump(feed);
      }
    },
    stop(id) {
      const feed = feeds.get(id);
      if (feed) close(feed);
    },
    stopAll() {
      for (const feed of [...feeds.values()]) close(feed);
    },
    size: () => feeds.size,
  };
}
