-- Takes a received delivery up for recovery: only while it is still pending and was not taken up
-- since `staleBeforeMs` (another instance's recovery may have just taken it), so that two
-- instances do not transform one delivery together.
local pendingKey = KEYS[1]
local deliveryId = ARGV[1]
local nowMs = ARGV[2]
local staleBeforeMs = tonumber(ARGV[3])

local score = redis.call('ZSCORE', pendingKey, deliveryId)
if not score or tonumber(score) > staleBeforeMs then
  return 0
end
redis.call('ZADD', pendingKey, nowMs, deliveryId)
return 1
