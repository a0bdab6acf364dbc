/**
 * The Lua scripts behind the Redis scheduler state: every read-modify-write of the shared state is one of
 * these, so each decision is atomic on the server. Time inside them is the Redis server's (`TIME`): the
 * replicas' clocks never meet. Keys (under the prefix `p`):
 *
 * - `lease:{upstream}`          zset slot → expiry (ms): running jobs' slots (the heartbeat pushes the expiry on)
 * - `holder:{upstream}`         hash slot → `{replica}|{job}` holding it
 * - `free:{upstream}`           zset slot → last use (ms): the coldest free slot goes first
 * - `slots`                     hash upstream → slot count (the free list is built on first use)
 * - `lkey:{upstream}`           hash slot → thread key of the job holding it (a next turn waits for its slot)
 * - `wait:{upstream}:i|b`       zset `{replica}|{job}` scored by the time it was registered: the global order
 * - `wjob`                      hash `{replica}|{job}` → [upstream, class, time] of every registered job
 * - `rwait:{replica}`           set of a replica's registered jobs (swept when the replica's heartbeat is gone)
 * - `hb:{replica}`              PX leaseTtlMs; `replicas` set: the replicas alive
 * - `sticky:{threadKey}`        → [upstream, slot], PX stickyTtlMs
 * - `job:{id}`                  → the job's record (replica, status, upstream, slot, times), PX 10 min
 *
 * Every change is announced on the channel as JSON (`S` start, `F` free, `W` waits, `D` left the queue,
 * `G` a replica gone), which keeps each replica's mirror. Key names are built inside the scripts, so the
 * state needs one Redis primary (or Valkey), not a cluster.
 * @module
 */

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- A job's record for GET /v1/jobs/{id} on any replica (kept JOB_TTL_MS after its last change).
local function note(p, job, fields)
  local k = p .. 'job:' .. job
  local old = redis.call('GET', k)
  local record = old and cjson.decode(old) or {}
  for name, value in pairs(fields) do record[name] = value end
  redis.call('SET', k, cjson.encode(record), 'PX', ${600_000})
end`

/**
 * Slot helpers: `init` (the first time an upstream is seen with this many slots, its free slots are listed)
 * and `sweep` (leases past their expiry go back to the free list). Free slots are a zset scored by last use
 * plus slot / 1000 (ties go to the lower index, as in the in-memory slot table); leases a zset scored by
 * their expiry. Both O(log n) per change.
 */
const SLOTS = `
local function init(p, u, slots)
  if tonumber(redis.call('HGET', p .. 'slots', u) or '-1') == slots then return end
  for s = 0, slots - 1 do
    if not redis.call('ZSCORE', p .. 'lease:' .. u, s) and not redis.call('ZSCORE', p .. 'free:' .. u, s) then
      redis.call('ZADD', p .. 'free:' .. u, -1e9 + s / 1000, s)
    end
  end
  for _, s in ipairs(redis.call('ZRANGE', p .. 'free:' .. u, 0, -1)) do
    if tonumber(s) >= slots then redis.call('ZREM', p .. 'free:' .. u, s) end
  end
  redis.call('HSET', p .. 'slots', u, slots)
end
local function sweep(p, u, now)
  local expired = redis.call('ZRANGEBYSCORE', p .. 'lease:' .. u, '-inf', now, 'LIMIT', 0, 256)
  for _, s in ipairs(expired) do
    redis.call('ZREM', p .. 'lease:' .. u, s)
    redis.call('HDEL', p .. 'holder:' .. u, s)
    redis.call('HDEL', p .. 'lkey:' .. u, s)
    redis.call('ZADD', p .. 'free:' .. u, now + tonumber(s) / 1000, s)
  end
end
`

/**
 * confirm: ARGV prefix, channel, replica, job, upstream, slots, preferred (-1: none), class (i|b), register (1|0),
 * waitingOn, batchMaxWaitMs, leaseTtlMs, threadKey ('' none), stickyTtlMs.
 * Grants a free slot when fewer registered jobs of this upstream go before the job than slots are free, unless
 * the job's preferred slot is still held by its own conversation's previous turn (then it waits for that one).
 * Returns {1, slot, '', now} or {0, stamp, busy slots 'a,b', now} (the job registered when `register`).
 */
export const CONFIRM = `${NOW}${SLOTS}
local p, channel, replica, job, u = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local slots, preferred = tonumber(ARGV[6]), tonumber(ARGV[7])
local class, register, waitingOn = ARGV[8], ARGV[9] == '1', ARGV[10]
local agedMs, ttl, key, stickyTtl = tonumber(ARGV[11]), tonumber(ARGV[12]), ARGV[13], tonumber(ARGV[14])
local member = replica .. '|' .. job
init(p, u, slots)
sweep(p, u, now)
local reg = redis.call('HGET', p .. 'wjob', member)
local stamp, regU, regC = now, nil, nil
if reg then
  local r = cjson.decode(reg)
  regU, regC, stamp = r[1], r[2], r[3]
  class = regC
end
local free = redis.call('ZCARD', p .. 'free:' .. u)
local ahead = 0
if free > 0 then
  local wi, wb = p .. 'wait:' .. u .. ':i', p .. 'wait:' .. u .. ':b'
  local aged = now - agedMs
  if class == 'i' or stamp <= aged then
    ahead = redis.call('ZCOUNT', wi, '-inf', '(' .. stamp)
    if aged < stamp then ahead = ahead + redis.call('ZCOUNT', wb, '-inf', aged)
    else ahead = ahead + redis.call('ZCOUNT', wb, '-inf', '(' .. stamp) end
  else
    ahead = redis.call('ZCARD', wi) + redis.call('ZCOUNT', wb, '-inf', '(' .. stamp)
  end
end
-- The conversation's previous turn still holds its slot through another replica, whose release may be on
-- its way (the client can see its answer end first): wait for that slot rather than take another and lose
-- the conversation's cache. (Through this replica the release went out before this call: no such wait.)
local turnEnding = false
if preferred >= 0 and preferred < slots and key ~= '' and redis.call('ZSCORE', p .. 'lease:' .. u, preferred) then
  local holder = redis.call('HGET', p .. 'holder:' .. u, preferred) or ''
  turnEnding = redis.call('HGET', p .. 'lkey:' .. u, preferred) == key and string.sub(holder, 1, #replica + 1) ~= replica .. '|'
end
if free == 0 or ahead >= free or turnEnding then
  if register and not reg then
    redis.call('ZADD', p .. 'wait:' .. waitingOn .. ':' .. class, now, member)
    redis.call('HSET', p .. 'wjob', member, cjson.encode({waitingOn, class, now}))
    redis.call('SADD', p .. 'rwait:' .. replica, member)
    redis.call('PUBLISH', channel, cjson.encode({t = 'W', u = waitingOn, c = class, at = now, r = replica, j = job}))
    note(p, job, {replica = replica, status = 'queued', upstream = waitingOn, class = class, queued_at = now})
  end
  return {0, stamp, table.concat(redis.call('ZRANGE', p .. 'lease:' .. u, 0, -1), ','), now}
end
local slot = nil
if preferred >= 0 and preferred < slots and redis.call('ZSCORE', p .. 'free:' .. u, preferred) then
  slot = preferred
else
  slot = tonumber(redis.call('ZRANGE', p .. 'free:' .. u, 0, 0)[1])
end
redis.call('ZREM', p .. 'free:' .. u, slot)
redis.call('ZADD', p .. 'lease:' .. u, now + ttl, slot)
redis.call('HSET', p .. 'holder:' .. u, slot, member)
if key ~= '' then redis.call('HSET', p .. 'lkey:' .. u, slot, key) else redis.call('HDEL', p .. 'lkey:' .. u, slot) end
if reg then
  redis.call('ZREM', p .. 'wait:' .. regU .. ':' .. regC, member)
  redis.call('HDEL', p .. 'wjob', member)
  redis.call('SREM', p .. 'rwait:' .. replica, member)
end
if key ~= '' and stickyTtl > 0 then redis.call('SET', p .. 'sticky:' .. key, cjson.encode({u, slot}), 'PX', stickyTtl) end
redis.call('PUBLISH', channel, cjson.encode({t = 'S', u = u, s = slot, at = now, r = replica, j = job, k = key, w = regU or ''}))
note(p, job, {replica = replica, status = 'running', upstream = u, slot = slot, class = class, queued_at = stamp, started_at = now})
return {1, slot, '', now}`

/** release: ARGV prefix, channel, replica, job, upstream, slot. Frees the lease if it is still this job's. */
export const RELEASE = `${NOW}
local p, channel, replica, job, u, slot = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if redis.call('HGET', p .. 'holder:' .. u, slot) ~= replica .. '|' .. job or not redis.call('ZSCORE', p .. 'lease:' .. u, slot) then return 0 end
redis.call('ZREM', p .. 'lease:' .. u, slot)
redis.call('HDEL', p .. 'holder:' .. u, slot)
redis.call('HDEL', p .. 'lkey:' .. u, slot)
redis.call('ZADD', p .. 'free:' .. u, now + tonumber(slot) / 1000, slot)
redis.call('PUBLISH', channel, cjson.encode({t = 'F', u = u, s = tonumber(slot), at = now, r = replica}))
note(p, job, {status = 'done', ended_at = now})
return 1`

/**
 * register: ARGV prefix, channel, replica, job, waitingOn, class. Puts the job in the global order (a job
 * already there moves to `waitingOn` keeping its time). Returns its time.
 */
export const REGISTER = `${NOW}
local p, channel, replica, job, u, class = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local member = replica .. '|' .. job
local reg = redis.call('HGET', p .. 'wjob', member)
local stamp, from = now, ''
if reg then
  local r = cjson.decode(reg)
  if r[1] == u then return r[3] end
  redis.call('ZREM', p .. 'wait:' .. r[1] .. ':' .. r[2], member)
  stamp, class, from = r[3], r[2], r[1]
end
redis.call('ZADD', p .. 'wait:' .. u .. ':' .. class, stamp, member)
redis.call('HSET', p .. 'wjob', member, cjson.encode({u, class, stamp}))
redis.call('SADD', p .. 'rwait:' .. replica, member)
redis.call('PUBLISH', channel, cjson.encode({t = 'W', u = u, c = class, at = stamp, r = replica, j = job, f = from}))
note(p, job, {replica = replica, status = 'queued', upstream = u, class = class, queued_at = stamp})
return stamp`

/** dequeue: ARGV prefix, channel, replica, job. Takes a job out of the global order. */
export const DEQUEUE = `${NOW}
local p, channel, replica, job = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local member = replica .. '|' .. job
local reg = redis.call('HGET', p .. 'wjob', member)
if not reg then return 0 end
local r = cjson.decode(reg)
redis.call('ZREM', p .. 'wait:' .. r[1] .. ':' .. r[2], member)
redis.call('HDEL', p .. 'wjob', member)
redis.call('SREM', p .. 'rwait:' .. replica, member)
redis.call('PUBLISH', channel, cjson.encode({t = 'D', u = r[1], r = replica, j = job}))
note(p, job, {status = 'dropped', ended_at = now})
return 1`

/**
 * heartbeat: ARGV prefix, channel, replica, leaseTtlMs, maxListed, n upstreams, then n × (upstream, slots), then
 * the replica's leases as (upstream, slot, job) triples. Renews the replica's mark and every lease still its
 * own (the others are lost), sweeps expired leases and the waiting jobs of replicas whose mark expired, and
 * returns the whole picture as JSON for the mirror: {now, lost, replicas, up: {id: {busy: [[slot, member]],
 * wait: [[member, class, time]]}}, wake}: `wake` is the ms until the first other replica's lease or mark runs
 * out (-1: none).
 */
export const HEARTBEAT = `${NOW}${SLOTS}
local p, channel, replica, ttl, maxListed = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local n = tonumber(ARGV[6])
redis.call('SET', p .. 'hb:' .. replica, now, 'PX', ttl)
redis.call('SADD', p .. 'replicas', replica)
for j = 0, n - 1 do
  init(p, ARGV[7 + 2 * j], tonumber(ARGV[8 + 2 * j]))
  sweep(p, ARGV[7 + 2 * j], now)
end
local lost = {}
local i = 7 + 2 * n
while i + 2 <= #ARGV do
  local u, s, member = ARGV[i], ARGV[i + 1], replica .. '|' .. ARGV[i + 2]
  if redis.call('HGET', p .. 'holder:' .. u, s) == member and redis.call('ZSCORE', p .. 'lease:' .. u, s) then
    redis.call('ZADD', p .. 'lease:' .. u, 'XX', now + ttl, s)
  else
    lost[#lost + 1] = ARGV[i + 2]
  end
  i = i + 3
end
local live = {}
local wake = -1
for _, r in ipairs(redis.call('SMEMBERS', p .. 'replicas')) do
  if redis.call('EXISTS', p .. 'hb:' .. r) == 0 then
    for _, m in ipairs(redis.call('SMEMBERS', p .. 'rwait:' .. r)) do
      local reg = redis.call('HGET', p .. 'wjob', m)
      if reg then
        local d = cjson.decode(reg)
        redis.call('ZREM', p .. 'wait:' .. d[1] .. ':' .. d[2], m)
        redis.call('HDEL', p .. 'wjob', m)
      end
    end
    redis.call('DEL', p .. 'rwait:' .. r)
    redis.call('SREM', p .. 'replicas', r)
    redis.call('PUBLISH', channel, cjson.encode({t = 'G', r = r}))
  else
    live[#live + 1] = r
    if r ~= replica then
      local left = redis.call('PTTL', p .. 'hb:' .. r)
      if left >= 0 and (wake < 0 or left < wake) then wake = left end
    end
  end
end
local up = {}
local mine = replica .. '|'
for j = 0, n - 1 do
  local u = ARGV[7 + 2 * j]
  local busy, wait = {}, {}
  local leased = redis.call('ZRANGE', p .. 'lease:' .. u, 0, -1, 'WITHSCORES')
  for x = 1, #leased, 2 do
    local holder = redis.call('HGET', p .. 'holder:' .. u, leased[x]) or '?'
    busy[#busy + 1] = {tonumber(leased[x]), holder}
    local left = tonumber(leased[x + 1]) - now
    if string.sub(holder, 1, #mine) ~= mine and (wake < 0 or left < wake) then wake = left end
  end
  for _, c in ipairs({'i', 'b'}) do
    local listed = redis.call('ZRANGE', p .. 'wait:' .. u .. ':' .. c, 0, maxListed - 1, 'WITHSCORES')
    for x = 1, #listed, 2 do wait[#wait + 1] = {listed[x], c, tonumber(listed[x + 1])} end
  end
  up[u] = {busy = busy, wait = wait}
end
return cjson.encode({now = now, lost = lost, replicas = live, up = up, wake = wake})`

/**
 * adopt: ARGV prefix, channel, replica, leaseTtlMs, then (upstream, slots, slot, job) quadruples: the jobs a
 * replica started on its local share while Redis was away get leases (their slot, else a free one). Returns
 * the slot each got, -1 when none was free.
 */
export const ADOPT = `${NOW}${SLOTS}
local p, channel, replica, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local result = {}
local i = 5
while i + 3 <= #ARGV do
  local u, slots, slot, job = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), ARGV[i + 3]
  local member = replica .. '|' .. job
  init(p, u, slots)
  sweep(p, u, now)
  if not redis.call('ZSCORE', p .. 'free:' .. u, slot) and redis.call('HGET', p .. 'holder:' .. u, slot) ~= member then
    slot = tonumber(redis.call('ZRANGE', p .. 'free:' .. u, 0, 0)[1] or '-1')
  end
  if slot >= 0 then
    redis.call('ZREM', p .. 'free:' .. u, slot)
    redis.call('ZADD', p .. 'lease:' .. u, now + ttl, slot)
    redis.call('HSET', p .. 'holder:' .. u, slot, member)
    redis.call('PUBLISH', channel, cjson.encode({t = 'S', u = u, s = slot, at = now, r = replica, j = job, k = '', w = ''}))
  end
  result[#result + 1] = slot
  i = i + 4
end
return result`

/**
 * requeue: ARGV prefix, channel, replica, then (job, upstream, class) triples in the replica's own order: after
 * Redis was away, the global order gets every waiting job of the replica back, in that order (a job Redis
 * still has keeps its time; the others get times after now, in order), and forgets the replica's jobs that
 * are no longer waiting. Each replica's jobs must stand in the global order as in its own, or the job Redis
 * puts first may be one its replica does not offer first.
 */
export const REQUEUE = `${NOW}
local p, channel, replica = ARGV[1], ARGV[2], ARGV[3]
local listed = {}
local i, n = 4, 0
while i + 2 <= #ARGV do
  local job, u, class = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local member = replica .. '|' .. job
  listed[member] = true
  n = n + 1
  if not redis.call('HGET', p .. 'wjob', member) then
    local stamp = now + n / 1000
    redis.call('ZADD', p .. 'wait:' .. u .. ':' .. class, stamp, member)
    redis.call('HSET', p .. 'wjob', member, cjson.encode({u, class, stamp}))
    redis.call('SADD', p .. 'rwait:' .. replica, member)
    redis.call('PUBLISH', channel, cjson.encode({t = 'W', u = u, c = class, at = stamp, r = replica, j = job}))
  end
  i = i + 3
end
for _, member in ipairs(redis.call('SMEMBERS', p .. 'rwait:' .. replica)) do
  if not listed[member] then
    local reg = redis.call('HGET', p .. 'wjob', member)
    if reg then
      local d = cjson.decode(reg)
      redis.call('ZREM', p .. 'wait:' .. d[1] .. ':' .. d[2], member)
      redis.call('HDEL', p .. 'wjob', member)
      redis.call('PUBLISH', channel, cjson.encode({t = 'D', u = d[1], r = replica, j = string.sub(member, #replica + 2)}))
    end
    redis.call('SREM', p .. 'rwait:' .. replica, member)
  end
end
return n`

/**
 * lookup: ARGV prefix, job, batchMaxWaitMs. The job's record (any replica's), with its place in its upstream's
 * order while it waits (1-based; the same rule as confirm's), as JSON; nil when unknown.
 */
export const LOOKUP = `${NOW}
local p, job, agedMs = ARGV[1], ARGV[2], tonumber(ARGV[3])
local text = redis.call('GET', p .. 'job:' .. job)
if not text then return false end
local record = cjson.decode(text)
if record.status == 'queued' and record.upstream and record.queued_at then
  local wi, wb = p .. 'wait:' .. record.upstream .. ':i', p .. 'wait:' .. record.upstream .. ':b'
  local stamp, aged = record.queued_at, now - agedMs
  local ahead
  if record.class == 'i' or stamp <= aged then
    ahead = redis.call('ZCOUNT', wi, '-inf', '(' .. stamp)
    if aged < stamp then ahead = ahead + redis.call('ZCOUNT', wb, '-inf', aged) else ahead = ahead + redis.call('ZCOUNT', wb, '-inf', '(' .. stamp) end
  else
    ahead = redis.call('ZCARD', wi) + redis.call('ZCOUNT', wb, '-inf', '(' .. stamp)
  end
  record.position = ahead + 1
end
record.now = now
return cjson.encode(record)`
