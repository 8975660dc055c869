import type { RedisClient } from 'bullmq';

/** A Redis stream id. */
export const STREAM_ID = /^[0-9]{1,20}-[0-9]{1,20}$/;
/** `changedSince` gives up (and everything is sent again) beyond this many events to look through. */
const CHANGED_SINCE_MAX_SCAN = 100_000;

const LOG_POSITION_LUA = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last == 0 then return '0-0' end
return last[1][1]
`;

/** KEYS[1] the event stream; ARGV[1] a stream id; ARGV[2] how many entries to scan at most; ARGV[3..] job ids. */
const CHANGED_SINCE_LUA = `
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function before(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end
local since = ARGV[1]
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
if #first == 0 then return false end
-- Entries after 'since' may have been trimmed away: cannot tell.
if before(since, first[1][1]) then return false end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
-- A position this stream never reached (another Redis, a forged id): cannot tell.
if before(last[1][1], since) then return false end
local wanted = {}
for i = 3, #ARGV do wanted[ARGV[i]] = true end
local out = {}
local cursor = since
local budget = tonumber(ARGV[2])
while true do
  local batch = redis.call('XRANGE', KEYS[1], '(' .. cursor, '+', 'COUNT', 1000)
  if #batch == 0 then break end
  budget = budget - #batch
  if budget < 0 then return false end
  for _, entry in ipairs(batch) do
    local fields = entry[2]
    for j = 1, #fields, 2 do
      if fields[j] == 'jobId' and wanted[fields[j + 1]] then
        out[#out + 1] = fields[j + 1]
        wanted[fields[j + 1]] = nil
      end
    end
    cursor = entry[1]
  end
end
return out
`;

/** The store's change log: BullMQ's own event stream of the queue. */
export interface ChangeLog {
  /** The id of the newest entry of BullMQ's event stream (`0-0` when empty): the store's change-log position. */
  logPosition(): Promise<string>;
  /** Which of `ids` have an entry in BullMQ's event stream after `position`; `null` when it cannot tell. */
  changedSince(ids: string[], position: string): Promise<string[] | null>;
}

/** The change log over the event stream `eventsKey`, read with two read-only scripts defined on the client. */
export function createChangeLog(redis: () => Promise<RedisClient>, eventsKey: string): ChangeLog {
  const scripted = new WeakSet<object>();

  async function scriptClient() {
    const client = await redis();
    if (!scripted.has(client)) {
      client.defineCommand('jobwatchLogPosition', { numberOfKeys: 1, lua: LOG_POSITION_LUA, readOnly: true });
      client.defineCommand('jobwatchChangedSince', { numberOfKeys: 1, lua: CHANGED_SINCE_LUA, readOnly: true });
      scripted.add(client);
    }
    return client;
  }

  return {
    async logPosition() {
      const answer: unknown = await (await scriptClient()).runCommand('jobwatchLogPosition', [eventsKey]);
      return typeof answer === 'string' && STREAM_ID.test(answer) ? answer : '0-0';
    },
    async changedSince(ids, position) {
      if (ids.length === 0) return [];
      if (!STREAM_ID.test(position)) return null;
      const answer: unknown = await (await scriptClient()).runCommand('jobwatchChangedSince', [
        eventsKey,
        position,
        CHANGED_SINCE_MAX_SCAN,
        ...ids,
      ]);
      return Array.isArray(answer) ? answer.map(String) : null;
    },
  };
}
