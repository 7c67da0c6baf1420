-- Accepts an event once: stores its record unless one exists (the idempotency check), and marks
-- it as not yet handed to delivery. A repeated id writes nothing; it answers 0 when the stored
-- event has the same body hash (a retry) and -1 when it has another (the id was reused).
local recordKey = KEYS[1]
local handoffKey = KEYS[2]
local recordJson = ARGV[1]
local ttlSeconds = ARGV[2]
local acceptedAtMs = ARGV[3]
local eventId = ARGV[4]
local bodyHash = ARGV[5]

if redis.call('SET', recordKey, recordJson, 'EX', ttlSeconds, 'NX') then
  redis.call('ZADD', handoffKey, acceptedAtMs, eventId)
  return 1
end
-- Only on a repeated id, so the decode costs nothing on the hot path.
local ok, existing = pcall(cjson.decode, redis.call('GET', recordKey) or '{}')
local storedHash = ok and existing['bodyHash'] or nil
if bodyHash == '' or type(storedHash) ~= 'string' or storedHash == bodyHash then
  return 0
end
return -1
