import { compareEventIds, isEventId } from '../../contract/eventIds';
import { formatIdList } from '../../contract/ids';
import { MAX_IDS_PER_REQUEST } from '../../contract/limits';
import { formatOutputRequest } from '../../contract/output';
import type { Connection } from './connection';

/**
 * @internal What the listeners want from the event streams right now: the ids
 * whose status they wait for, and the ids whose output they wait for (with
 * the position each output resumes after).
 */
export interface StreamWants {
  /** Whether a status listener still waits for `id` (subscribed, terminal state not yet delivered). */
  status(id: string): boolean;
  /** Whether an output listener still waits for `id`'s output. */
  output(id: string): boolean;
  /** The last seq every output listener of `id` has: the stream resumes after it. */
  outputPosition(id: string): number;
  /** Every id wanted, status or output, sorted. */
  ids(): string[];
}

/** @internal Whether `c` carries what is wanted of `id`: its status, and its output when that is wanted. */
export function covers(c: Connection, id: string, wants: StreamWants): boolean {
  if (!c.idSet.has(id)) return false;
  return !wants.output(id) || (c.outputSet.has(id) && !c.outputEnded.has(id));
}

/** @internal Whether `c` still delivers anything wanted: a status, or an output it has not seen end. */
export function isNeeded(c: Connection, wants: StreamWants): boolean {
  return c.ids.some(
    (id) => wants.status(id) || (wants.output(id) && c.outputSet.has(id) && !c.outputEnded.has(id)),
  );
}

/** @internal The streams to open: the wanted ids in chunks of `MAX_IDS_PER_REQUEST`, each with its output ids. */
export function chunkWants(wants: StreamWants): Array<{ ids: string[]; outputIds: string[] }> {
  const want = wants.ids();
  const chunks: Array<{ ids: string[]; outputIds: string[] }> = [];
  for (let i = 0; i < want.length; i += MAX_IDS_PER_REQUEST) {
    const ids = want.slice(i, i + MAX_IDS_PER_REQUEST);
    chunks.push({ ids, outputIds: ids.filter((id) => wants.output(id)) });
  }
  return chunks;
}

/**
 * @internal What a re-plan does: `close` the connections that carry nothing
 * wanted; `open` new ones (and retire every active one) when a wanted id or
 * output is not carried by an active connection. Leftovers (an output that
 * ended, an id no longer wanted) never cause a reconnect by themselves.
 */
export function planStreams(
  connections: readonly Connection[],
  wants: StreamWants,
): { close: Connection[]; reopen: boolean } {
  const close = connections.filter((c) => !isNeeded(c, wants));
  const active = connections.filter((c) => !c.retiring && !c.closed && !close.includes(c));
  const reopen = wants.ids().some((id) => !active.some((c) => covers(c, id, wants)));
  return { close, reopen };
}

/**
 * @internal Last-Event-ID for a new stream: the oldest position of the streams
 * it replaces, and only when each of its ids was on one of them (a new id
 * needs its full snapshot). Output resumes from the query's positions instead.
 */
export function resumeFrom(connections: readonly Connection[], ids: readonly string[]): string | null {
  let min: string | null = null;
  for (const id of ids) {
    const source = connections.find((c) => !c.closed && c.idSet.has(id) && c.lastEventId !== null);
    const position = source?.lastEventId;
    if (!isEventId(position)) return null;
    if (min === null || compareEventIds(position, min) < 0) min = position;
  }
  return min;
}

/** @internal Retiring connections whose wanted ids are all carried by open, active streams: they can close. */
export function retiredCovered(connections: readonly Connection[], wants: StreamWants): Connection[] {
  const openOnes = connections.filter((c) => c.open && !c.retiring);
  return connections.filter(
    (c) =>
      c.retiring &&
      c.ids.every((id) => !(wants.status(id) || wants.output(id)) || openOnes.some((o) => covers(o, id, wants))),
  );
}

/**
 * @internal The query of one attempt: `ids=a,b`, and `&output=a:17,b` for the
 * outputs still wanted, each with the last seq delivered to its listeners, so
 * every reconnect resumes after the last part.
 */
export function streamQuery(c: Connection, wants: StreamWants): string {
  const output = c.outputIds.filter((id) => wants.output(id)).map((id) => [id, wants.outputPosition(id)] as const);
  const ids = `ids=${formatIdList(c.ids)}`;
  return output.length > 0 ? `${ids}&output=${formatOutputRequest(output)}` : ids;
}
