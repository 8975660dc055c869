import {
  JobNotFoundError,
  JobProtocolError,
  JobRequestError,
  JobTransportError,
  JobUnauthorizedError,
} from '../../contract/errors';
import type { Job, JobOutputPart } from '../../contract/types';

/**
 * The messages tabs exchange on the share channel. Every message names its
 * sender (`from`); hub messages also name the hub (`hub`), so a tab can
 * ignore a hub that is no longer the leader.
 */

/** What a tab asks the hub to watch for it. */
export interface WatchRequest {
  /** The job id. */
  id: string;
  /** The smallest poll interval this tab asks for (ms), or `null` for the default. */
  interval: number | null;
}

/** The methods a tab may ask the hub to call on the real client. */
export type HubMethod = 'list' | 'getPendingCount' | 'cancel' | 'retry' | 'readOutput' | 'statuses';

/** Messages from a tab to the hub. */
export type TabMessage =
  | { t: 'hello'; from: string; visible: boolean; online: boolean; watch: WatchRequest[]; output: Array<{ id: string; after: number }> }
  | { t: 'state'; from: string; visible: boolean; online: boolean }
  | { t: 'watch'; from: string; id: string; interval: number | null }
  | { t: 'unwatch'; from: string; id: string }
  | { t: 'output'; from: string; id: string; after: number }
  | { t: 'unoutput'; from: string; id: string }
  | { t: 'call'; from: string; req: number; method: HubMethod; args: unknown[] }
  | { t: 'bye'; from: string }
  | { t: 'peer'; from: string; leading: boolean };

/** Messages from the hub to the tabs. */
export type HubMessage =
  | { t: 'lead'; hub: string }
  | { t: 'beat'; hub: string }
  | { t: 'job'; hub: string; job: Job }
  | { t: 'jobs'; hub: string; to: string; jobs: Job[] }
  | { t: 'lost'; hub: string; id: string; error: WireError; fatal: boolean }
  | { t: 'paused'; hub: string; id: string }
  | { t: 'parts'; hub: string; id: string; parts: JobOutputPart[]; done: boolean; trimmed: boolean }
  | { t: 'outputError'; hub: string; id: string; error: WireError }
  | { t: 'answer'; hub: string; to: string; req: number; ok: boolean; value: unknown };

/** An error as it crosses the channel: structured clone keeps no class, so the fields that matter are copied. */
export interface WireError {
  /** The class name (`JobNotFoundError`, …) or `Error`. */
  name: string;
  /** The message. */
  message: string;
  /** The remaining fields of the jobwatch errors. */
  jobId?: string;
  status?: number;
  code?: string;
  retryAfterMs?: number;
  field?: string;
}

/** Copies an error into a {@link WireError}. */
export function toWire(error: unknown): WireError {
  const e = (error ?? {}) as Partial<WireError>;
  const wire: WireError = { name: typeof e.name === 'string' ? e.name : 'Error', message: typeof e.message === 'string' ? e.message : String(error) };
  for (const key of ['jobId', 'status', 'code', 'retryAfterMs', 'field'] as const) {
    if (e[key] !== undefined) (wire as unknown as Record<string, unknown>)[key] = e[key];
  }
  return wire;
}

/** Rebuilds the typed error a {@link WireError} was made from (a plain `JobTransportError` for anything unknown). */
export function fromWire(wire: WireError): Error {
  switch (wire.name) {
    case 'JobNotFoundError':
      return new JobNotFoundError(wire.jobId ?? '');
    case 'JobUnauthorizedError':
      return new JobUnauthorizedError(wire.message, wire.status === undefined ? {} : { status: wire.status });
    case 'JobRequestError':
      return new JobRequestError(wire.status ?? 400, wire.code ?? 'bad_request', wire.message);
    case 'JobProtocolError':
      return Object.assign(new JobProtocolError(wire.field ?? '', ''), { message: wire.message });
    case 'AbortError':
      return new DOMException(wire.message, 'AbortError');
    default: {
      const options: { status?: number; retryAfterMs?: number } = {};
      if (wire.status !== undefined) options.status = wire.status;
      if (wire.retryAfterMs !== undefined) options.retryAfterMs = wire.retryAfterMs;
      return new JobTransportError(wire.message, options);
    }
  }
}

/** Whether a value looks like a message of this protocol (a tab's when `from` is set, the hub's when `hub` is). */
export function isShareMessage(value: unknown): value is TabMessage | HubMessage {
  const m = value as { t?: unknown; from?: unknown; hub?: unknown } | null;
  return typeof m === 'object' && m !== null && typeof m.t === 'string' && (typeof m.from === 'string' || typeof m.hub === 'string');
}

/** The name of the share channel (and lock) for a key. */
export const shareChannelName = (key: string): string => `jobwatch:share:${key}`;
