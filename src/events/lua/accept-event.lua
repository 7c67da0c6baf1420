-- Accepts an event once: stores its record unless one exists (the idempotency check), and marks
-- it as not yet handed to delivery. A duplicate writes nothing.
local recordKey = KEYS[1]
local handoffKey = KEYS[2]
local recordJson = ARGV[1]
local ttlSeconds = ARGV[2]
local acceptedAtMs = ARGV[3]
local eventId = ARGV[4]

if not redis.call('SET', recordKey, recordJson, 'EX', ttlSeconds, 'NX') then
  return 0
end
redis.call('ZADD', handoffKey, acceptedAtMs, eventId)
return 1
