-- Records one attempt of a delivery: its fields, the attempt count, the attempt log (the last
-- `kept` entries) and both expiries, in one call.
local hashKey = KEYS[1]
local attemptsKey = KEYS[2]
local attemptJson = ARGV[1]
local kept = tonumber(ARGV[2])
local ttlSeconds = ARGV[3]
-- ARGV[4..]: field, value pairs for the hash.

redis.call('HSET', hashKey, unpack(ARGV, 4))
redis.call('HINCRBY', hashKey, 'attempts', 1)
redis.call('RPUSH', attemptsKey, attemptJson)
redis.call('LTRIM', attemptsKey, -kept, -1)
redis.call('EXPIRE', hashKey, ttlSeconds)
redis.call('EXPIRE', attemptsKey, ttlSeconds)
return 1
