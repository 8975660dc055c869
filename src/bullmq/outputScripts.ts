import type { RedisClient } from 'bullmq';
import { MAX_OUTPUT_PART_LENGTH } from '../contract/output';
import type { JobOutputInput, JobOutputPart } from '../contract/types';

/**
 * How a job's output sits in Redis, and the scripts that write and read it.
 *
 * One Redis stream per job, `<prefix>:<queue>:<id>:jw:out` (next to the job's own keys).
 * Entry ids are `<seq>-0`, so a part's seq is its entry id and "parts after N" is the range
 * `(N-0 +`. Each entry has three fields: `p`, the part as JSON without its seq; `l`, how
 * many lines of the job's BullMQ log list (`<jobKey>:logs`, written by `job.log()`) had been
 * copied into the stream when the entry was added; and `t`, the job's creation time (BullMQ's
 * `timestamp`), so the output of an earlier job under the same id is never taken for this
 * one's. The newest entry therefore holds every counter (the last seq, the lines copied), and
 * every script reads them from it: no other key, nothing to keep in step. MAXLEN trims the
 * oldest entries; the newest always stays.
 */

/** The suffix of a job's output stream key, after the job's own key. */
export const OUTPUT_KEY_SUFFIX = ':jw:out';

/** The job's output stream key, from the job's own key (`queue.toKey(id)`). */
export const outputKey = (jobKey: string): string => `${jobKey}${OUTPUT_KEY_SUFFIX}`;

/**
 * Copies the job's new log lines, then appends the parts given, in one atomic step.
 * KEYS: job hash, job logs list, output stream. ARGV: maxlen, `at` of the copied lines,
 * part JSONs… Returns the last seq, or -1 when the job hash does not exist (nothing written).
 */
const COPY_AND_APPEND = `
local function copyAndAppend(jobKey, logsKey, streamKey, maxlen, at, parts, from)
  local created = redis.call('HGET', jobKey, 'timestamp')
  if not created then return -1 end
  local seq, copied = 0, 0
  local newest = redis.call('XREVRANGE', streamKey, '+', '-', 'COUNT', 1)
  if #newest > 0 then
    seq = tonumber(string.match(newest[1][1], '^(%d+)'))
    local fields = newest[1][2]
    local owner = false
    for i = 1, #fields, 2 do
      if fields[i] == 'l' then copied = tonumber(fields[i + 1]) end
      if fields[i] == 't' then owner = fields[i + 1] end
    end
    -- The output of an earlier job under the same id (removed without the store seeing it).
    if owner ~= created then
      redis.call('DEL', streamKey)
      seq, copied = 0, 0
    end
  end
  local total = redis.call('LLEN', logsKey)
  if total > copied then
    local first = copied
    -- Lines that MAXLEN would trim at once are counted, not written.
    if total - first > maxlen then
      seq = seq + (total - first - maxlen)
      first = total - maxlen
    end
    local lines = redis.call('LRANGE', logsKey, first, total - 1)
    for i, line in ipairs(lines) do
      seq = seq + 1
      local part = cjson.encode({ kind = 'log', text = line, at = at })
      redis.call('XADD', streamKey, 'MAXLEN', maxlen, seq .. '-0', 'p', part, 'l', first + i, 't', created)
    end
    copied = total
  end
  for i = from, #parts do
    seq = seq + 1
    redis.call('XADD', streamKey, 'MAXLEN', maxlen, seq .. '-0', 'p', parts[i], 'l', copied, 't', created)
  end
  return seq
end
`;

/** KEYS: job hash, logs list, stream. ARGV: maxlen, at, part JSONs… → last seq, or -1 for an unknown job. */
export const APPEND_OUTPUT_LUA = `${COPY_AND_APPEND}
return copyAndAppend(KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[1]), ARGV[2], ARGV, 3)
`;

/**
 * Copies new log lines, then reads. KEYS: job hash, logs list, stream. ARGV: maxlen, at,
 * after, limit → `{ oldest entry id | '', last seq (0: none; -1: no job hash), entries }`.
 * A job BullMQ no longer has (its hash is gone) is read as it is, nothing copied.
 */
export const READ_OUTPUT_LUA = `${COPY_AND_APPEND}
local last = copyAndAppend(KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[1]), ARGV[2], {}, 1)
if last < 0 then
  local newest = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
  last = 0
  if #newest > 0 then last = tonumber(string.match(newest[1][1], '^(%d+)')) end
end
local oldest = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 1)
local entries = redis.call('XRANGE', KEYS[3], '(' .. ARGV[3] .. '-0', '+', 'COUNT', tonumber(ARGV[4]))
local first = ''
if #oldest > 0 then first = oldest[1][1] end
return { first, last, entries }
`;

/**
 * Copies new log lines of several jobs (what a live subscription does between two reads).
 * ARGV: maxlen, at, then per job: job hash, logs list, stream.
 */
export const COPY_LOGS_LUA = `${COPY_AND_APPEND}
for i = 3, #ARGV, 3 do
  copyAndAppend(ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[1]), ARGV[2], {}, 1)
end
return 0
`;

/**
 * The lifetime of a job's output stream. KEYS: job hash, stream. ARGV: `expire` ms (PEXPIRE),
 * `expire-nx` ms (only when it has no expiry yet), `persist`, or `drop` (DEL, unless the job
 * hash exists).
 */
export const OUTPUT_LIFETIME_LUA = `
local mode = ARGV[1]
if mode == 'expire' then return redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
if mode == 'expire-nx' then return redis.call('PEXPIRE', KEYS[2], ARGV[2], 'NX') end
if mode == 'persist' then return redis.call('PERSIST', KEYS[2]) end
if mode == 'drop' and redis.call('EXISTS', KEYS[1]) == 0 then return redis.call('DEL', KEYS[2]) end
return 0
`;

/** The seq of a stream entry id (`<seq>-0`). */
export const seqOfEntryId = (entryId: string): number => Number(entryId.split('-')[0]);

/** A part as stored (field `p`): everything but the seq. */
export function storedPart(part: JobOutputInput, at: string): string {
  const stored: Record<string, unknown> = { kind: part.kind };
  if (part.text !== undefined) stored.text = part.text;
  if ('data' in part) stored.data = part.data;
  if (part.url !== undefined) stored.url = part.url;
  if (part.alt !== undefined) stored.alt = part.alt;
  stored.at = part.at ?? at;
  return JSON.stringify(stored);
}

/** What is added to a log line cut to fit {@link MAX_OUTPUT_PART_LENGTH}. */
const CUT_MARK = ' […]';

/**
 * One stream entry (`[id, [field, value, …]]`) as a part; `null` for an entry that is not one.
 * A copied log line too long for a part is cut to fit, ending in `[…]` (appended parts never are:
 * the writer refuses them).
 */
export function partOfEntry(entry: unknown): JobOutputPart | null {
  if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) return null;
  const fields = entry[1] as unknown[];
  const at = fields.indexOf('p');
  if (at < 0 || typeof fields[at + 1] !== 'string') return null;
  let stored: Record<string, unknown>;
  try {
    stored = JSON.parse(fields[at + 1] as string) as Record<string, unknown>;
  } catch {
    return null;
  }
  const part = { seq: seqOfEntryId(entry[0]), ...stored } as JobOutputPart;
  if (part.kind === 'log' && typeof part.text === 'string') {
    const over = JSON.stringify(part).length - MAX_OUTPUT_PART_LENGTH;
    if (over > 0) part.text = cutToFit(part, over);
  }
  return part;
}

/** The text of a log part shortened until the part's JSON fits. */
function cutToFit(part: JobOutputPart, over: number): string {
  let text = part.text!;
  let cut = Math.max(0, text.length - over - CUT_MARK.length);
  for (;;) {
    text = `${part.text!.slice(0, cut)}${CUT_MARK}`;
    if (JSON.stringify({ ...part, text }).length <= MAX_OUTPUT_PART_LENGTH || cut === 0) return text;
    cut = Math.max(0, cut - Math.ceil((cut + 16) / 16));
  }
}

/** Stream entries (as XRANGE / XREAD list them) as parts, in order. */
export function partsOfEntries(entries: unknown): JobOutputPart[] {
  if (!Array.isArray(entries)) return [];
  const parts: JobOutputPart[] = [];
  for (const entry of entries) {
    const part = partOfEntry(entry);
    if (part) parts.push(part);
  }
  return parts;
}

/** Defines the output scripts on `client` once (per client), and returns it. */
export function outputScripts(scripted: WeakSet<object>, client: RedisClient): RedisClient {
  if (!scripted.has(client)) {
    client.defineCommand('jobwatchAppendOutput', { numberOfKeys: 3, lua: APPEND_OUTPUT_LUA });
    client.defineCommand('jobwatchReadOutput', { numberOfKeys: 3, lua: READ_OUTPUT_LUA });
    client.defineCommand('jobwatchCopyLogs', { numberOfKeys: 0, lua: COPY_LOGS_LUA });
    client.defineCommand('jobwatchOutputLifetime', { numberOfKeys: 2, lua: OUTPUT_LIFETIME_LUA });
    scripted.add(client);
  }
  return client;
}
