-- Settle one admitted request: its real tokens replace the estimate, its slot is freed.
-- Its real cost replaces the cost reserved (ARGV[8] is the difference, worked out by
-- the caller in integers: Lua's numbers are doubles).
-- KEYS: 1 tpm hash, 2 tpm total, 3 concurrency zset, 4 quota counter, 5 budget counter
-- ARGV: 1 member, 2 estimate, 3 actual, 4 tpm?, 5 concurrency?, 6 quota? ("1" = yes),
--       7 budget? ("1" = yes), 8 actual cost - reserved cost (nano-units)
local member = ARGV[1]
local estimate, actual = tonumber(ARGV[2]), tonumber(ARGV[3])
if ARGV[4] == '1' then
  local old = redis.call('HGET', KEYS[1], member)
  if old then  -- absent once the entry left the one-minute window
    redis.call('HSET', KEYS[1], member, actual)
    redis.call('INCRBY', KEYS[2], actual - tonumber(old))
  end
end
if ARGV[5] == '1' then
  redis.call('ZREM', KEYS[3], member)
end
if ARGV[6] == '1' and redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('INCRBY', KEYS[4], actual - estimate)
end
if ARGV[7] == '1' and redis.call('EXISTS', KEYS[5]) == 1 then
  redis.call('INCRBY', KEYS[5], ARGV[8])
end
return 0
