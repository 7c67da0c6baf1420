-- Makes a fusion document current if the caller saw the current version (If-Match), and tells
-- every instance. KEYS[1] current version   KEYS[2] version counter
-- ARGV[1] expected version or "*"   ARGV[2] key prefix of versions   ARGV[3] document JSON
-- ARGV[4] meta JSON without version  ARGV[5] change channel
-- Answers {1, new version} or {0, current version}.
local current = redis.call('GET', KEYS[1]) or '0'
if ARGV[1] ~= '*' and ARGV[1] ~= current then return {0, tonumber(current)} end
local version = redis.call('INCR', KEYS[2])
redis.call('HSET', ARGV[2] .. version, 'document', ARGV[3], 'meta', ARGV[4])
redis.call('SET', KEYS[1], version)
redis.call('PUBLISH', ARGV[5], version)
return {1, version}
