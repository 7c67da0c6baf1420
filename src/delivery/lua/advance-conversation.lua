-- Moves an ordered conversation on once its head delivery is final: removes the head and, when
-- another delivery waits, marks it as due (so that a crash before its job is queued is recovered)
-- and answers its queue entry. A delivery that is not the head (a replay) changes nothing.
local queueKey = KEYS[1]
local dueKey = KEYS[2]
local deliveryId = ARGV[1]
local nowMs = ARGV[2]

local head = redis.call('LINDEX', queueKey, 0)
if not head or string.sub(head, 1, #deliveryId + 1) ~= deliveryId .. '\n' then
  return false
end
redis.call('LPOP', queueKey)
local nextEntry = redis.call('LINDEX', queueKey, 0)
if not nextEntry then
  return false
end
local nextId = string.sub(nextEntry, 1, string.find(nextEntry, '\n', 1, true) - 1)
redis.call('ZADD', dueKey, nowMs, queueKey .. '\n' .. nextId)
return nextEntry
