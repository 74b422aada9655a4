-- Reserve an admitted request's tokens, atomically: its prompt plus its completion
-- limit, or (completion < 0) all that remains of the key's TPM and quota.
-- Its cost is reserved against the key's budget the same way: its most expensive
-- outcome, or (ARGV[8] = '1', no completion limit) all that remains of the budget.
-- KEYS: 1 tpm zset, 2 tpm hash (member -> tokens), 3 tpm total, 4 quota counter,
--       5 budget counter (nano-units)
-- ARGV: 1 member, 2 prompt, 3 completion (-1 = what remains), 4 tpm, 5 quota (0 = none),
--       6 budget (0 = none), 7 cost estimate, 8 '1' = reserve what remains of the budget
-- Returns {code, retry_after_ms, value, cost}: 0 reserved (value = tokens reserved,
--       cost = budget reserved), 2 tpm (value 0), 4 quota (value = used + reserved
--       before this request), 6 budget (value = spent + reserved before it).
local member = ARGV[1]
local prompt, completion = tonumber(ARGV[2]), tonumber(ARGV[3])
local tpm, quota = tonumber(ARGV[4]), tonumber(ARGV[5])
local budget = tonumber(ARGV[6])
local cost = 0
local budgeted = budget > 0 and redis.call('EXISTS', KEYS[5]) == 1
if budgeted then
  local spent = tonumber(redis.call('GET', KEYS[5]))
  cost = tonumber(ARGV[7])
  if ARGV[8] == '1' and budget - spent > cost then cost = budget - spent end
  if spent >= budget or spent + cost > budget then return {6, 0, spent, 0} end
end
local remaining = nil
local used = 0
local counted = quota > 0 and redis.call('EXISTS', KEYS[4]) == 1
if counted then
  used = tonumber(redis.call('GET', KEYS[4]))
  remaining = quota - used - prompt
end
local total = 0
local others = 0
local mine = false
if tpm > 0 then
  total = tonumber(redis.call('GET', KEYS[3]) or '0')
  mine = redis.call('HEXISTS', KEYS[2], member) == 1
  others = redis.call('ZCARD', KEYS[1]) - (mine and 1 or 0)
  local left = tpm - total - prompt
  if remaining == nil or left < remaining then remaining = left end
end
local extra = prompt
if completion >= 0 then
  extra = prompt + completion
elseif remaining ~= nil and remaining > 0 then
  extra = prompt + remaining
end
if counted and used + extra > quota then return {4, 0, used, 0} end
if tpm > 0 and others > 0 and total + extra > tpm then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {2, math.max(tonumber(oldest[2]) + 60000 - now, 0), 0, 0}
end
if mine then
  redis.call('HINCRBY', KEYS[2], member, extra)
  redis.call('INCRBY', KEYS[3], extra)
end
if counted then
  redis.call('INCRBY', KEYS[4], extra)
end
if budgeted then
  redis.call('INCRBY', KEYS[5], cost)
end
return {0, 0, extra, cost}
