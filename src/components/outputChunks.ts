import { isSafeOutputUrl } from '../contract/output';
import type { JobOutputPart } from '../contract/types';

/**
 * How {@link JobOutput} lays out parts: consecutive text parts form one run (split into
 * committed chunks a screen reader hears as sentences, and a not-yet-committed tail), each
 * log part is one line, data parts are not shown, and only the latest safe image is.
 */

/** One committed piece of a text run, keyed by where it ends in the run (so earlier chunks keep their keys and DOM nodes). */
export interface OutputChunk {
  key: string;
  text: string;
}

/** A run of text parts, or one log line. */
export type OutputItem =
  | { kind: 'text'; key: string; chunks: OutputChunk[]; tail: string; last: number }
  | { kind: 'log'; key: string; text: string };

/** A sentence ends at `.`, `!`, `?` or `…` (closing quotes or brackets included) followed by white space, or at a newline. */
const SENTENCE_END = /[.!?…]["'”’)\]]*\s+|\n/g;

/**
 * Splits one run of text parts (each has its text: checked on arrival) at sentence ends and
 * after the parts up to `flushed` (a `seq`, 0 for none); everything when `commitAll`. A run only
 * grows at its end while its first part is kept (its key), so a chunk is keyed by where it
 * ends in the run's text.
 */
function splitRun(run: JobOutputPart[], flushed: number, commitAll: boolean): OutputItem {
  let text = '';
  /** Where the flushed parts end in the joined text (0 when they are all in earlier runs). */
  let flushedAt = 0;
  for (const part of run) {
    text += part.text;
    if (part.seq <= flushed) flushedAt = text.length;
  }
  // Cuts (offsets in the joined text, ascending but for the two added): sentence ends, the flushed parts' end, the end.
  const cuts = [...text.matchAll(SENTENCE_END)].map((match) => match.index + match[0].length);
  cuts.push(flushedAt);
  if (commitAll) cuts.push(text.length);
  const chunks: OutputChunk[] = [];
  let from = 0;
  for (const cut of cuts.sort((a, b) => a - b)) {
    if (cut <= from) continue;
    chunks.push({ key: String(cut), text: text.slice(from, cut) });
    from = cut;
  }
  return { kind: 'text', key: `text:${run[0]!.seq}`, chunks, tail: text.slice(from), last: run.at(-1)!.seq };
}

/** What {@link JobOutput} shows of its parts: the text runs and log lines in order, and one image. */
export interface OutputLayout {
  items: OutputItem[];
  /** The newest image part whose URL may be shown (`isSafeOutputUrl`), or null. */
  image: (JobOutputPart & { url: string }) | null;
}

/**
 * The layout of `parts`. Only the last text run (when nothing follows it) may keep a
 * tail: runs before a log line are committed whole, and so is every run when `commitAll`
 * (the output is done, or announcements are off). `flushed` commits the text of the parts up
 * to that `seq` (0: none).
 */
export function outputLayout(parts: readonly JobOutputPart[], flushed: number, commitAll: boolean): OutputLayout {
  const layout: OutputLayout = { items: [], image: null };
  let run: JobOutputPart[] = [];
  const endRun = (whole: boolean) => {
    if (run[0]) layout.items.push(splitRun(run, flushed, whole));
    run = [];
  };
  for (const part of parts) {
    if (part.kind === 'text') run.push(part);
    else if (part.kind === 'log') {
      endRun(true);
      layout.items.push({ kind: 'log', key: `log:${part.seq}`, text: part.text! });
    } else if (part.kind === 'image' && isSafeOutputUrl(part.url)) layout.image = part as OutputLayout['image'];
  }
  endRun(commitAll);
  return layout;
}
