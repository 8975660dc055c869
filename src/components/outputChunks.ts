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

/** One committed piece of a text run, keyed by where it ends in the run (so earlier chunks keep their keys and DOM nodes). */
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

/**
 * Splits one run of text parts (each has its text: checked on arrival) at sentence ends and at
 * `flushed`; everything when `commitAll`. A run only grows at its end while its first part is
 * kept (its key), so a chunk is keyed by where it ends in the run's text.
 */
function splitRun(run: JobOutputPart[], flushed: OutputPosition | null, commitAll: boolean): OutputItem {
  let text = '';
  /** Where `flushed` is in the joined text (0 when it is in an earlier run). */
  let flushedAt = 0;
  for (const part of run) {
    if (part.seq === flushed?.seq) flushedAt = text.length + Math.min(flushed.off, part.text!.length);
    text += part.text;
  }
  const last = run.at(-1)!;
  // Cuts (offsets in the joined text, ascending but for the two added): sentence ends, the flushed position, the end.
  const cuts = [...text.matchAll(SENTENCE_END)].map((match) => match.index + match[0].length);
  // A flush past this run commits all of it.
  if (flushed) cuts.push(flushed.seq > last.seq ? text.length : flushedAt);
  if (commitAll) cuts.push(text.length);
  const chunks: OutputChunk[] = [];
  let from = 0;
  for (const cut of cuts.sort((a, b) => a - b)) {
    if (cut <= from) continue;
    chunks.push({ key: String(cut), text: text.slice(from, cut) });
    from = cut;
  }
  return { kind: 'text', key: `text:${run[0]!.seq}`, chunks, tail: text.slice(from), end: { seq: last.seq, off: last.text!.length } };
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
    if (run[0]) items.push(splitRun(run, flushed, whole));
    run = [];
  };
  for (const part of parts) {
    if (part.kind === 'text') run.push(part);
    else if (part.kind === 'log') {
      endRun(true);
      items.push({ kind: 'log', key: `log:${part.seq}`, text: part.text! });
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
