import type { JobStore } from '../contract/types';

/** What plain `EventSource` clients wait before reconnecting (the SSE `retry:` field), in ms. */
export const EVENT_STREAM_RETRY_MS = 1000;

/**
 * The most an event stream keeps queued for a client that does not read, in
 * bytes (1 MiB). A client further behind is dropped — the stream ends, its
 * subscriptions go — and reconnects with `Last-Event-ID`, which sends it the
 * latest states: memory stays bounded however many events the store emits.
 * The first chunk (retry and snapshot) is always queued, whatever its size.
 */
export const MAX_EVENT_STREAM_BUFFER_BYTES = 1024 * 1024;

/**
 * Headers of the event stream. `x-accel-buffering: no` keeps nginx from holding events back.
 * No `connection` header: HTTP/2 forbids it, and HTTP/1.1 keeps the connection alive anyway.
 */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  'x-accel-buffering': 'no',
};

/** Everything one event stream needs; ids and owner are already validated and authorized. */
export interface JobEventStreamContext {
  store: JobStore;
  /** Unique, valid ids, in request order. */
  ids: string[];
  /** The ids whose output the stream carries (each one of `ids`), with the last part the client has. */
  output: ReadonlyArray<readonly [id: string, after: number]>;
  owner: string;
  request: Request;
  /**
   * From `Last-Event-ID` (already validated): jobs unchanged since it are left out of the
   * snapshot. An `updatedAt` in ms, or a position of the store's change log.
   */
  lastEventId: string | null;
  heartbeatMs: number;
  pollIntervalMs: number;
  /** Reports an unexpected error (the handler's `onError`). */
  report(error: unknown): void;
}
