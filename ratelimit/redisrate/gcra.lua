-- GCRA on the Redis server's clock, in nanoseconds.
-- KEYS[1]: the key's state, its theoretical arrival time (tat), stored as
--          "seconds:nanoseconds" so no number exceeds what Lua's doubles
--          hold exactly (2^53): only differences from now (at most tau,
--          which New keeps below 2^53 ns) are computed in one number.
-- ARGV: interval (ns per event), tau (interval * burst, ns), n (events)
-- Returns {allowed (0/1), remaining, retry_after_ns, reset_after_ns}.

-- TIME before a write needs effects replication: always on from Redis 5,
-- switched on here for 3.2 and 4 (a no-op where it is deprecated).
if redis.replicate_commands then redis.replicate_commands() end

local interval = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local t = redis.call('TIME')
local now_s, now_ns = tonumber(t[1]), tonumber(t[2]) * 1000

-- owed: tat - now, in ns (0 when the bucket is full). A value in another
-- format (not ours) counts as a full bucket.
local owed = 0
local v = redis.call('GET', KEYS[1])
if v then
  local s, ns = string.match(v, '^(%d+):(%d+)$')
  if s then
    owed = (tonumber(s) - now_s) * 1000000000 + (tonumber(ns) - now_ns)
  end
end
if owed < 0 then owed = 0 end

local new_owed = owed + interval * n
local wait = new_owed - tau
if wait > 0 then
  return {0, math.floor((tau - owed) / interval), wait, owed}
end
-- The key expires when its bucket is full again: state only while it matters.
local tat = now_ns + new_owed
redis.call('SET', KEYS[1], string.format('%d:%d', now_s + math.floor(tat / 1000000000), tat % 1000000000),
  'PX', math.ceil(new_owed / 1000000))
return {1, math.floor((tau - new_owed) / interval), 0, new_owed}
