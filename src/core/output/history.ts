import type { JobOutputPart } from '../../contract/types';

/**
 * The parts of one job kept in memory: appended in order, the oldest dropped past `maxParts`
 * (with their text), `text` kept incrementally. Cheap per part: dropping is amortised (the
 * array is compacted once it holds twice what is kept) and the joined text is only cut
 * when a snapshot is taken.
 */
export interface OutputHistory {
  /** Appends parts (already in order, each right after the last). */
  append(parts: readonly JobOutputPart[]): void;
  /** Keeps at most `max` parts from now on (drops the oldest at once when fewer are kept). */
  setMax(max: number): void;
  /** Whether any part was dropped for `maxParts`. */
  readonly dropped: boolean;
  /** Grows whenever the kept parts change (appended or dropped). */
  readonly version: number;
  /** The kept parts (a new frozen array) and their joined text. */
  take(): { parts: readonly JobOutputPart[]; text: string };
}

/** Creates an empty history keeping at most `max` parts. */
export function createOutputHistory(max: number): OutputHistory {
  let all: JobOutputPart[] = [];
  /** Index of the first kept part in `all`. */
  let start = 0;
  let text = '';
  /** Length of the text at the head of `text` that belongs to dropped parts. */
  let cut = 0;
  let dropped = false;
  let version = 0;

  function trim(): void {
    const excess = all.length - start - max;
    if (excess <= 0) return;
    for (let i = start; i < start + excess; i++) {
      const part = all[i]!;
      if (part.kind === 'text') cut += part.text?.length ?? 0;
    }
    start += excess;
    dropped = true;
    version++;
    if (start > max) {
      all = all.slice(start);
      start = 0;
    }
  }

  return {
    append(parts) {
      for (const part of parts) {
        all.push(part);
        if (part.kind === 'text' && part.text) text += part.text;
      }
      if (parts.length > 0) version++;
      trim();
    },
    setMax(next) {
      max = Math.max(1, next);
      trim();
    },
    get dropped() {
      return dropped;
    },
    get version() {
      return version;
    },
    take() {
      if (cut > 0) {
        text = text.slice(cut);
        cut = 0;
      }
      return { parts: Object.freeze(all.slice(start)), text };
    },
  };
}
