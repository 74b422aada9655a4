-- Admit one request for one API key, atomically (one script = one step in Redis).
-- KEYS: 1 rpm zset, 2 tpm zset, 3 tpm hash (member -> tokens), 4 tpm total,
--       5 concurrency zset (score = lease end), 6 quota counter (used + reserved),
--       7 budget counter (spent + reserved, nano-units)
-- ARGV: 1 member, 2 rpm, 3 tpm, 4 concurrency, 5 quota (0 = no limit),
--       6 estimate, 7 quota baseline (-1 = unknown), 8 quota ttl s (0 = none), 9 lease ms,
--       10 budget (0 = none), 11 budget baseline (-1 = unknown), 12 budget ttl s (0 = none)
-- Returns {code, retry_after_ms, used}: 0 admitted, 1 rpm, 2 tpm, 3 concurrency,
--       4 quota, 5 quota baseline needed (call again with ARGV[7]), 6 budget spent,
--       7 budget baseline needed (call again with ARGV[11]).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local member = ARGV[1]
local rpm, tpm, conc, quota = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local estimate = tonumber(ARGV[6])
local window = 60000

if quota > 0 then
  if redis.call('EXISTS', KEYS[6]) == 0 then
    if tonumber(ARGV[7]) < 0 then return {5, 0, 0} end
    if tonumber(ARGV[8]) > 0 then
      redis.call('SET', KEYS[6], ARGV[7], 'EX', ARGV[8])
    else
      redis.call('SET', KEYS[6], ARGV[7])
    end
  end
  local used = tonumber(redis.call('GET', KEYS[6]))
  if used + estimate > quota then return {4, 0, used} end
end

local budget = tonumber(ARGV[10])
if budget > 0 then
  if redis.call('EXISTS', KEYS[7]) == 0 then
    if tonumber(ARGV[11]) < 0 then return {7, 0, 0} end
    if tonumber(ARGV[12]) > 0 then
      redis.call('SET', KEYS[7], ARGV[11], 'EX', ARGV[12])
    else
      redis.call('SET', KEYS[7], ARGV[11])
    end
  end
  local spent = tonumber(redis.call('GET', KEYS[7]))
  if spent >= budget then return {6, 0, spent} end
end

if rpm > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  if redis.call('ZCARD', KEYS[1]) >= rpm then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return {1, tonumber(oldest[2]) + window - now, 0}
  end
end

if tpm > 0 then
  local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - window)
  local gone = 0
  for i = 1, #expired do
    gone = gone + (tonumber(redis.call('HGET', KEYS[3], expired[i])) or 0)
    redis.call('HDEL', KEYS[3], expired[i])
  end
  if #expired > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
    redis.call('DECRBY', KEYS[4], gone)
  end
  local total = tonumber(redis.call('GET', KEYS[4]) or '0')
  if redis.call('ZCARD', KEYS[2]) > 0 and total + estimate > tpm then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return {2, tonumber(oldest[2]) + window - now, 0}
  end
end

if conc > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
  if redis.call('ZCARD', KEYS[5]) >= conc then return {3, 1000, 0} end
end

if rpm > 0 then
  redis.call('ZADD', KEYS[1], now, member)
  redis.call('PEXPIRE', KEYS[1], window + 1000)
end
if tpm > 0 then
  redis.call('ZADD', KEYS[2], now, member)
  redis.call('HSET', KEYS[3], member, estimate)
  redis.call('INCRBY', KEYS[4], estimate)
  redis.call('PEXPIRE', KEYS[2], window + 1000)
  redis.call('PEXPIRE', KEYS[3], window + 1000)
  redis.call('PEXPIRE', KEYS[4], window + 1000)
end
if conc > 0 then
  local lease = tonumber(ARGV[9])
  redis.call('ZADD', KEYS[5], now + lease, member)
  redis.call('PEXPIRE', KEYS[5], lease + 1000)
end
if quota > 0 then
  redis.call('INCRBY', KEYS[6], estimate)
end
return {0, 0, 0}
