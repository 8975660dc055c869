import type { JobSubRoute } from '../contract/routes';
import { badRequest } from '../contract/listFilter';
import { checkId, decodeQueryPart, type JobRoute } from './parseRequest';

/** Decodes a query component as form data, or gives it back raw when it is malformed (for a first, lenient look). */
function lenientDecode(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/**
 * The per-job route a request on `{base}` names in its query (semantic 14):
 * `GET {base}?id=…`, `GET {base}?id=…&action=output` or
 * `POST {base}?id=…&action=cancel|retry`; `null` when the
 * query holds neither `id` nor `action` (the collection itself, so `POST {base}`
 * stays 405). Read leniently, before authorization, only to choose the route
 * and its methods: every problem is answered 400 by {@link parseQueryJobRequest}
 * once the caller is authorized.
 */
export function queryJobRoute(search: string): Extract<JobRoute, { kind: 'query' }> | null {
  const query = search.startsWith('?') ? search.slice(1) : search;
  let named = false;
  let action: 'cancel' | 'retry' | 'output' | 'other' | null = null;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const name = lenientDecode(eq === -1 ? pair : pair.slice(0, eq));
    if (name === 'id') named = true;
    if (name === 'action' && action === null) {
      named = true;
      const value = lenientDecode(eq === -1 ? '' : pair.slice(eq + 1));
      action = value === 'cancel' || value === 'retry' || value === 'output' ? value : 'other';
    }
  }
  return named ? { kind: 'query', action } : null;
}

/** A per-job request read from the query: the job id, and the action (cancel/retry for a POST, output for a GET). */
export interface QueryJobRequest {
  /** The job id, decoded and checked. */
  id: string;
  /** What to do with the job; `null` reads its status. */
  action: JobSubRoute | null;
}

/**
 * Validates a per-job request in the query form: only `id` (and `action` for
 * POST, `cancel` or `retry`; `action=output` for GET, with `after` and `limit`)
 * may be given, the id under the contract's rules (`.` and `..` included).
 * `id` with `ids` or with list parameters, an unknown action, cancel/retry on
 * GET, output on POST, an action without an id, and a POST without an action
 * all answer 400 `bad_request`. `after` and `limit` are left for the output route to read.
 */
export function parseQueryJobRequest(params: Map<string, string>, method: string): QueryJobRequest {
  const rawAction = params.get('action');
  const output = method !== 'POST' && rawAction !== undefined && lenientDecode(rawAction) === 'output';
  for (const name of params.keys()) {
    if (name === 'id' || name === 'action') continue;
    if (output && (name === 'after' || name === 'limit')) continue;
    if (name === 'ids') throw badRequest('"id" cannot be combined with "ids": ?id= names one job, ?ids= a batch');
    throw badRequest(
      output
        ? `"${name}" cannot be combined with action=output: it takes id, after and limit alone`
        : `"${name}" cannot be combined with "id" or "action": a per-job request takes id (and action, for POST) alone`,
    );
  }
  const rawId = params.get('id');
  if (rawId === undefined) throw badRequest('"action" needs the job id: ?id=<id>&action=cancel');
  const id = decodeQueryPart(rawId, 'id');
  checkId(id);
  if (method !== 'POST') {
    if (output) return { id, action: 'output' };
    if (rawAction !== undefined) throw badRequest('"action" on GET is only action=output; GET ?id=<id> reads the job, POST takes cancel or retry');
    return { id, action: null };
  }
  if (rawAction === undefined) throw badRequest('POST ?id=<id> needs action=cancel or action=retry');
  const action = decodeQueryPart(rawAction, 'action');
  if (action !== 'cancel' && action !== 'retry') throw badRequest(`Unknown action "${action}" for POST; expected cancel or retry`);
  return { id, action };
}
