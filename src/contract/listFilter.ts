import { JobRequestError } from './errors';
import { DEFAULT_LIST_LIMIT, listLimitProblem } from './limits';
import { metaFilterProblem } from './meta';
import { isJobState } from './states';
import type { JobFilter, JobState } from './types';

/** The error of a request that breaks the contract's input rules: `JobRequestError` 400 `bad_request`. */
export function badRequest(message: string): JobRequestError {
  return new JobRequestError(400, 'bad_request', message);
}

/** Throws {@link badRequest} when a `meta` filter breaks the contract's limits. */
export function checkMetaFilter(meta: Readonly<Record<string, string>> | undefined): void {
  const problem = metaFilterProblem(meta);
  if (problem !== null) throw badRequest(problem);
}

/** A list filter once checked: the states asked for (empty for every state) and the page size resolved. */
export interface CheckedListFilter {
  /** The states asked for, in the order given; empty when the filter names none. */
  statuses: JobState[];
  /** The page size, `DEFAULT_LIST_LIMIT` when the filter gives none. */
  limit: number;
  /** The `meta` filter, within the contract's limits. */
  meta: Readonly<Record<string, string>> | undefined;
  /** The store's own cursor, still to be decoded by the store. */
  cursor: string | undefined;
}

/**
 * Checks a list filter as every store must: the limit (1–100), each status,
 * and the meta filter's limits. Throws {@link badRequest} for the first problem.
 */
export function checkListFilter(filter: JobFilter | undefined): CheckedListFilter {
  const { status, meta, cursor, limit = DEFAULT_LIST_LIMIT } = filter ?? {};
  const limitProblem = listLimitProblem(limit);
  if (limitProblem) throw badRequest(limitProblem);
  const statuses = status === undefined ? [] : ([] as JobState[]).concat(status);
  for (const state of statuses) {
    if (!isJobState(state)) throw badRequest(`Unknown status "${String(state)}"`);
  }
  checkMetaFilter(meta);
  return { statuses, limit, meta, cursor };
}
