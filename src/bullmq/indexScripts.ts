/**
 * The store's Lua scripts. Every one reads a job's state the same way, in one atomic step with
 * its fields: a job whose hash exists sits in exactly one of BullMQ's structures; the sorted
 * sets are checked by ZSCORE (O(log n)), `active` by LPOS (it holds the running jobs only), and
 * a job in none of them is in the `wait` list (not scanned: it can be as long as the queue).
 */
const STATE_OF = `
local function stateOf(prefix, id)
  if redis.call('EXISTS', prefix .. id) == 0 then return 'gone' end
  if redis.call('ZSCORE', prefix .. 'completed', id) then return 'completed' end
  if redis.call('ZSCORE', prefix .. 'failed', id) then return 'failed' end
  if redis.call('ZSCORE', prefix .. 'delayed', id) then return 'delayed' end
  if redis.call('ZSCORE', prefix .. 'prioritized', id) then return 'prioritized' end
  if redis.call('ZSCORE', prefix .. 'waiting-children', id) then return 'waiting-children' end
  if redis.call('LPOS', prefix .. 'active', id) then return 'active' end
  return 'waiting'
end
local function snapshot(prefix, markers, records, withData, id)
  local state = stateOf(prefix, id)
  local data = false
  if state ~= 'gone' and withData then data = redis.call('HGETALL', prefix .. id) end
  local record = false
  if state == 'gone' and records ~= '' then record = redis.call('GET', records .. id) end
  return { id, state, data, redis.call('HGET', markers, id), record }
end
`;

/**
 * Snapshots of jobs: ARGV = prefix, markers hash, record key prefix ('' for none), ids…
 * → per id `{ id, bullState | 'gone', hash fields | false, marker | false, record | false }`.
 */
export const SNAPSHOT_LUA = `${STATE_OF}
local out = {}
for i = 4, #ARGV do out[#out + 1] = snapshot(ARGV[1], ARGV[2], ARGV[3], true, ARGV[i]) end
return out
`;

/**
 * Candidates of a list page or a count: ARGV = prefix, markers hash, withData ('1'/'0'), max
 * score ('+inf' or a number), count (-1: all), owners hash, index keys… → `{ members,
 * snapshots, owners }`: per key `{ id, score, … }` (newest first, at most count, score ≤ max),
 * one snapshot per id, and the owner the index has for each (JSON, as the snapshots).
 */
export const CANDIDATES_LUA = `${STATE_OF}
local withData = ARGV[3] == '1'
local members = {}
local seen = {}
local snaps = {}
local owners = {}
for i = 7, #ARGV do
  local found
  if ARGV[5] == '-1' then
    found = redis.call('ZREVRANGEBYSCORE', ARGV[i], ARGV[4], '-inf', 'WITHSCORES')
  else
    found = redis.call('ZREVRANGEBYSCORE', ARGV[i], ARGV[4], '-inf', 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[5]))
  end
  members[#members + 1] = found
  for j = 1, #found, 2 do
    local id = found[j]
    if not seen[id] then
      seen[id] = true
      snaps[#snaps + 1] = snapshot(ARGV[1], ARGV[2], '', withData, id)
      owners[#owners + 1] = redis.call('HGET', ARGV[6], id) or ''
    end
  end
end
return { members, snaps, owners }
`;

/**
 * Puts jobs where they are, in their owner's index sets (one sorted set per owner and state,
 * scored by creation time): ARGV = prefix, owners hash, index key prefix, markers hash,
 * position key, new position ('' for none), then pairs of id and owner (JSON, '' when the
 * store should look it up) → the ids whose owner is not known yet. A job that is gone leaves
 * every set (and the owners hash) unless a cancel marker keeps it as cancelled; a cancel under
 * way keeps the job in its state's set and in `cancelled`.
 */
export const SYNC_LUA = `${STATE_OF}
local PHASE = { waiting = 'pending', delayed = 'pending', prioritized = 'pending', ['waiting-children'] = 'pending',
  active = 'processing', completed = 'completed', failed = 'failed' }
local STATES = { 'pending', 'processing', 'completed', 'failed', 'cancelled' }
local prefix, owners, index, markers = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local unknown = {}
for i = 7, #ARGV, 2 do
  local id, given = ARGV[i], ARGV[i + 1]
  if given ~= '' then redis.call('HSETNX', owners, id, given) end
  local owner = redis.call('HGET', owners, id)
  if not owner then
    unknown[#unknown + 1] = id
  elseif owner ~= 'null' then
    local state = stateOf(prefix, id)
    local marker = redis.call('HGET', markers, id)
    local cancelling = marker and string.find(marker, '"pending":true', 1, true) ~= nil
    local target = PHASE[state]
    if marker and not cancelling then target = 'cancelled' end
    local score = tonumber(redis.call('HGET', prefix .. id, 'timestamp'))
    if not score and marker then score = tonumber(cjson.decode(marker).createdAtMs) end
    for _, s in ipairs(STATES) do
      local key = index .. s .. ':' .. owner
      if s == target or (s == 'cancelled' and cancelling) then
        if score then redis.call('ZADD', key, score, id) end
      else
        redis.call('ZREM', key, id)
      end
    end
    if not target and not marker then redis.call('HDEL', owners, id) end
  end
end
if ARGV[6] ~= '' then redis.call('SET', ARGV[5], ARGV[6]) end
return unknown
`;

/**
 * Where the index is in the event stream: `<stream id>|<entries ever added up to it>`. Redis 7
 * counts the entries ever added to a stream; BullMQ only trims it (from the oldest), so events
 * after a position were trimmed away unread exactly when more entries are gone than were added
 * up to it.
 */
const STREAM_INFO = `
local function streamInfo(key)
  if redis.call('EXISTS', key) == 0 then return '0-0', 0, 0 end
  local ok, info = pcall(redis.call, 'XINFO', 'STREAM', key)
  local last, added, length = nil, nil, nil
  if ok then
    for i = 1, #info, 2 do
      if info[i] == 'last-generated-id' then last = info[i + 1] end
      if info[i] == 'entries-added' then added = tonumber(info[i + 1]) end
      if info[i] == 'length' then length = tonumber(info[i + 1]) end
    end
  end
  if not last then
    local newest = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
    last = #newest > 0 and newest[1][1] or '0-0'
  end
  return last, added, length
end
`;

/** The stream's position now (where a rebuild starts): ARGV = event stream → `<id>|<added>`. */
export const START_POSITION_LUA = `${STREAM_INFO}
local last, added = streamInfo(ARGV[1])
return last .. '|' .. tostring(added or 0)
`;

/**
 * The events after the index's position: ARGV = event stream, position key, count →
 * `{ 'missing' }` (no position: never built), `{ 'trimmed' }` (events after it are gone, or
 * the stream is a new one), or `{ 'ok', events read, new position | false, jobIds… }`.
 */
export const PENDING_EVENTS_LUA = `${STREAM_INFO}
local raw = redis.call('GET', ARGV[2])
if not raw then return { 'missing' } end
local pos, upTo = string.match(raw, '^([0-9]+-[0-9]+)|([0-9]+)$')
if not pos then return { 'missing' } end
upTo = tonumber(upTo)
local _, added, length = streamInfo(ARGV[1])
if added and length then
  if added < upTo or added - length > upTo then return { 'trimmed' } end
elseif pos ~= '0-0' then
  local first = redis.call('XRANGE', ARGV[1], '-', '+', 'COUNT', 1)
  local fm, fs = string.match(first[1] and first[1][1] or '0-0', '^(%d+)-(%d+)$')
  local pm, ps = string.match(pos, '^(%d+)-(%d+)$')
  fm, fs, pm, ps = tonumber(fm), tonumber(fs), tonumber(pm), tonumber(ps)
  if pm < fm or (pm == fm and ps < fs) then return { 'trimmed' } end
end
local batch = redis.call('XRANGE', ARGV[1], '(' .. pos, '+', 'COUNT', tonumber(ARGV[3]))
local out = { 'ok', #batch, false }
if #batch > 0 then
  out[3] = batch[#batch][1] .. '|' .. tostring(upTo + #batch)
end
for _, entry in ipairs(batch) do
  local fields = entry[2]
  for j = 1, #fields, 2 do
    if fields[j] == 'jobId' then out[#out + 1] = fields[j + 1] end
  end
end
return out
`;

/** Every job id of the queue (all of BullMQ's structures) and of the cancel markers: ARGV = prefix, markers hash. */
export const ALL_IDS_LUA = `
local prefix = ARGV[1]
local out = {}
for _, name in ipairs({ 'completed', 'failed', 'delayed', 'prioritized', 'waiting-children' }) do
  for _, id in ipairs(redis.call('ZRANGE', prefix .. name, 0, -1)) do out[#out + 1] = id end
end
for _, name in ipairs({ 'wait', 'paused', 'active' }) do
  for _, id in ipairs(redis.call('LRANGE', prefix .. name, 0, -1)) do out[#out + 1] = id end
end
for _, id in ipairs(redis.call('HKEYS', ARGV[2])) do out[#out + 1] = id end
return out
`;

/** Takes ids out of one index set: ARGV = key, ids… (a job the set's owner does not own, or that no longer exists). */
export const EVICT_LUA = `
for i = 2, #ARGV do redis.call('ZREM', ARGV[1], ARGV[i]) end
return #ARGV - 1
`;
