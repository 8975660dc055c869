import { MAX_OUTPUT_PAGE_PARTS, outputAfterProblem, outputLimitProblem, parseOutputPage } from '../contract/output';
import type { JobOutputPage, JobStore } from '../contract/types';
import { errorResponse, jsonResponse } from './http';
import { checkParams, integerParam } from './parseRequest';

/** Where an output read starts and how many parts it may answer. */
export interface OutputRange {
  /** Only parts with a greater seq (default 0). */
  after: number;
  /** At most this many parts (default and largest `MAX_OUTPUT_PAGE_PARTS`). */
  limit: number;
}

/**
 * Reads `after` and `limit` of an output request (still raw, form-decoded here); any other
 * parameter but those `extra` allows answers 400, as do an `after` or `limit` the contract
 * refuses (`outputAfterProblem`, `outputLimitProblem`).
 */
export function parseOutputRange(params: Map<string, string>, extra: (name: string) => boolean = () => false): OutputRange {
  checkParams(params, (name) => name === 'after' || name === 'limit' || extra(name), 'after and limit');
  const range: OutputRange = { after: 0, limit: MAX_OUTPUT_PAGE_PARTS };
  range.after = integerParam(params, 'after', 16, outputAfterProblem) ?? range.after;
  range.limit = integerParam(params, 'limit', 4, outputLimitProblem) ?? range.limit;
  return range;
}

/**
 * Checks what `store.readOutput` answered for `range`: a valid page (`parseOutputPage`), no
 * more parts than asked for, every part after `after`, and a gap after `after` only when the
 * page says `trimmed`. Throws `TypeError` (a store bug: 500 `internal_error`, reported) otherwise.
 */
export function checkOutputPage(value: unknown, id: string, range: OutputRange): JobOutputPage {
  let page: JobOutputPage;
  try {
    page = parseOutputPage(value);
  } catch (error) {
    throw new TypeError(`store.readOutput("${id}") answered an invalid output page: ${(error as Error).message}`, { cause: error });
  }
  const first = page.parts[0];
  if (page.parts.length > range.limit) {
    throw new TypeError(`store.readOutput("${id}") answered ${page.parts.length} parts for limit ${range.limit}`);
  }
  if (first && first.seq <= range.after) {
    throw new TypeError(`store.readOutput("${id}") answered part ${first.seq} for after=${range.after}`);
  }
  if (first && first.seq !== range.after + 1 && !page.trimmed) {
    throw new TypeError(`store.readOutput("${id}") skipped parts ${range.after + 1} to ${first.seq - 1} without saying trimmed`);
  }
  return page;
}

/**
 * Serves `GET {base}/{id}/output?after=N&limit=M` (and its query form): 200 `JobOutputPage`,
 * 404 `not_found` for an unknown or another owner's id and for a store that keeps no output.
 * The range was validated before (400 never reaches the store).
 */
export async function serveOutput(store: JobStore, id: string, range: OutputRange, owner: string, signal: AbortSignal): Promise<Response> {
  if (!store.readOutput) return errorResponse(404, 'not_found', 'This server keeps no job output');
  const page = checkOutputPage(await store.readOutput(id, { owner, signal, after: range.after, limit: range.limit }), id, range);
  return jsonResponse(200, page.trimmed ? { parts: page.parts, done: page.done, trimmed: true } : { parts: page.parts, done: page.done });
}
