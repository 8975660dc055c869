import { isSafeOutputUrl } from '../contract/output';
import type { JobOutputPart } from '../contract/types';

/**
 * How {@link JobOutput} lays out parts: consecutive text parts form one run (split into
 * committed chunks a screen reader hears as sentences, and a not-yet-committed tail), each
 * log part is one line, data parts are not shown, and only the latest safe image is.
 */

/** A place in the output: `off` characters into the text of part `seq`. Stable when older parts are dropped. */
export interface OutputPosition {
  seq: number;
  off: number;
}

/** One committed piece of a text run, keyed by where it ends (so earlier chunks keep their keys and DOM nodes). */
export interface OutputChunk {
  key: string;
  text: string;
}

/** A run of text parts, or one log line. */
export type OutputItem =
  | { kind: 'text'; key: string; chunks: OutputChunk[]; tail: string; end: OutputPosition }
  | { kind: 'log'; key: string; text: string };

/** A sentence ends at `.`, `!`, `?` or `…` (closing quotes or brackets included) followed by white space, or at a newline. */
const SENTENCE_END = /[.!?…]["'”’)\]]*\s+|\n/g;

/** Whether `a` comes before `b`. */
export function isBefore(a: OutputPosition, b: OutputPosition): boolean {
  return a.seq < b.seq || (a.seq === b.seq && a.off < b.off);
}

/** Splits one run of text parts at sentence ends and at `flushed`; everything when `commitAll`. */
function splitRun(run: JobOutputPart[], flushed: OutputPosition | null, commitAll: boolean): OutputItem {
  /** Where each part's text starts in the joined text. */
  const starts: number[] = [];
  let text = '';
  for (const part of run) {
    starts.push(text.length);
    text += part.text ?? '';
  }
  const last = run[run.length - 1]!;
  const end = { seq: last.seq, off: last.text?.length ?? 0 };
  // Cuts (offsets in the joined text, ascending but for the two added): sentence ends, the flushed position, the end.
  const cuts = [...text.matchAll(SENTENCE_END)].map((match) => match.index + match[0].length);
  if (flushed) {
    const i = run.findIndex((part) => part.seq === flushed.seq);
    // A flush past this run commits all of it; one in an earlier run (not found), none of it.
    cuts.push(isBefore(end, flushed) ? text.length : i < 0 ? 0 : starts[i]! + Math.min(flushed.off, run[i]!.text?.length ?? 0));
  }
  if (commitAll) cuts.push(text.length);
  const committed = Math.max(0, ...cuts);
  const chunks: OutputChunk[] = [];
  let from = 0;
  for (const cut of cuts.sort((a, b) => a - b)) {
    if (cut <= from) continue;
    // A chunk is keyed by where it ends: the part holding the cut, and the offset in it.
    let i = starts.length - 1;
    while (i > 0 && starts[i]! >= cut) i--;
    chunks.push({ key: `${run[i]!.seq}:${cut - starts[i]!}`, text: text.slice(from, cut) });
    from = cut;
  }
  return { kind: 'text', key: `text:${run[0]!.seq}`, chunks, tail: text.slice(committed), end };
}

/**
 * The items shown for `parts`. Only the last text run (when nothing follows it) may keep a
 * tail: runs before a log line are committed whole, and so is every run when `commitAll`
 * (the output is done, or announcements are off). `flushed` commits the tail up to there.
 */
export function outputItems(parts: readonly JobOutputPart[], flushed: OutputPosition | null, commitAll: boolean): OutputItem[] {
  const items: OutputItem[] = [];
  let run: JobOutputPart[] = [];
  const endRun = (whole: boolean) => {
    if (run.length > 0) items.push(splitRun(run, flushed, whole));
    run = [];
  };
  for (const part of parts) {
    if (part.kind === 'text') run.push(part);
    else if (part.kind === 'log') {
      endRun(true);
      items.push({ kind: 'log', key: `log:${part.seq}`, text: part.text ?? '' });
    }
  }
  endRun(commitAll);
  return items;
}

/** The newest image part whose URL may be shown (`isSafeOutputUrl`), or null. */
export function latestImage(parts: readonly JobOutputPart[]): (JobOutputPart & { url: string }) | null {
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i]!;
    if (part.kind === 'image' && isSafeOutputUrl(part.url)) return part as JobOutputPart & { url: string };
  }
  return null;
}
