-- Stores the verified raw deliveries of one turn of the event loop, each unless it is a replay or
-- a duplicate, in one step, so that a crash never leaves a replay or dedupe mark without the
-- delivery it stands for (a provider's retry would then be refused while nothing was stored).
-- Deliveries are handled in order: a later one sees the marks of an earlier one of the same call.
local allKey = KEYS[1]
local pendingKey = KEYS[2]
-- KEYS[3..]: per delivery its hash, its replay mark and its dedupe mark (an unused mark key is
-- still named, and never written).
-- Entries of the listing index older than this many seconds are trimmed (once per call).
local retainSeconds = tonumber(ARGV[1])
-- ARGV[2..]: per delivery its id, its receipt time (ms), the seconds its replay mark is kept ("":
-- no replay key), the seconds its dedupe mark is kept ("": no dedupe rule or no value), the
-- number of field/value pairs n of its hash, then the n pairs.
-- Answers per delivery a code (1 stored, 0 duplicate, -1 replay) and the id (the first
-- delivery's id for a duplicate, "" for a replay).

local answers = {}
local at = 2
local newestMs = nil
for k = 3, #KEYS, 3 do
  local deliveryKey, replayKey, dedupeKey = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local deliveryId, receivedAtMs, replayTtl, dedupeTtl = ARGV[at], tonumber(ARGV[at + 1]), ARGV[at + 2], ARGV[at + 3]
  local pairs = tonumber(ARGV[at + 4])
  local first, last = at + 5, at + 4 + 2 * pairs
  at = last + 1
  local code, answer = 1, deliveryId
  if replayTtl ~= '' and redis.call('EXISTS', replayKey) == 1 then
    code, answer = -1, ''
  elseif dedupeTtl ~= '' then
    local earlier = redis.call('GET', dedupeKey)
    if earlier then
      if replayTtl ~= '' then redis.call('SET', replayKey, deliveryId, 'EX', replayTtl) end
      code, answer = 0, earlier
    end
  end
  if code == 1 then
    redis.call('HSET', deliveryKey, unpack(ARGV, first, last))
    redis.call('ZADD', allKey, receivedAtMs, deliveryId)
    redis.call('ZADD', pendingKey, receivedAtMs, deliveryId)
    if replayTtl ~= '' then redis.call('SET', replayKey, deliveryId, 'EX', replayTtl) end
    if dedupeTtl ~= '' then redis.call('SET', dedupeKey, deliveryId, 'EX', dedupeTtl) end
    if not newestMs or receivedAtMs > newestMs then newestMs = receivedAtMs end
  end
  answers[#answers + 1] = code
  answers[#answers + 1] = answer
end
if newestMs then
  redis.call('ZREMRANGEBYSCORE', allKey, '-inf', '(' .. (newestMs - retainSeconds * 1000))
end
return answers
