-- GCRA on the Redis server's clock, in microseconds.
-- KEYS[1]: the key's state (its theoretical arrival time, tat)
-- ARGV: interval (us per event), tau (interval * burst), n (events)
-- Returns {allowed (0/1), remaining, retry_after_us, reset_after_us}.
local interval = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end
local new_tat = tat + interval * n
local wait = new_tat - tau - now
if wait > 0 then
  local remaining = math.floor((tau - (tat - now)) / interval)
  if remaining < 0 then remaining = 0 end
  return {0, remaining, wait, tat - now}
end
-- The key expires when its bucket is full again: state only while it matters.
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((tau - (new_tat - now)) / interval), 0, new_tat - now}
