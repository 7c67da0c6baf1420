-- Records the outcomes of the transform runs of one turn of the event loop in one step (a
-- delivery's outcome is only sent once its events are durable): per delivery its status and
-- result, out of the pending index, and into (or out of) the dead letters. A processed delivery
-- expires after the retention; a dead one stays until it is replayed. One call for every delivery
-- finished in a turn instead of one per delivery.
local pendingKey = KEYS[1]
local deadKey = KEYS[2]
-- KEYS[3..]: the delivery hashes, in the order of the entries below.
local nowMs = ARGV[1]
local retainSeconds = ARGV[2]
-- ARGV[3..]: per delivery its id, its status (processed | dead), the number of field/value pairs
-- n, then n pairs of the delivery hash (events, error, ...).

local answers = {}
local at = 3
for d = 3, #KEYS do
  local deliveryKey = KEYS[d]
  local deliveryId, status, pairs = ARGV[at], ARGV[at + 1], tonumber(ARGV[at + 2])
  local first, last = at + 3, at + 2 + 2 * pairs
  at = last + 1
  redis.call('ZREM', pendingKey, deliveryId)
  if redis.call('EXISTS', deliveryKey) == 0 then
    answers[#answers + 1] = 0
  else
    if pairs > 0 then
      redis.call('HSET', deliveryKey, 'status', status, 'processedAt', nowMs, unpack(ARGV, first, last))
    else
      redis.call('HSET', deliveryKey, 'status', status, 'processedAt', nowMs)
    end
    redis.call('HINCRBY', deliveryKey, 'attempts', 1)
    if status == 'dead' then
      redis.call('ZADD', deadKey, nowMs, deliveryId)
    else
      redis.call('ZREM', deadKey, deliveryId)
      redis.call('EXPIRE', deliveryKey, retainSeconds)
    end
    answers[#answers + 1] = 1
  end
end
return answers
