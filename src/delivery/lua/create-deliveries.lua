-- Creates the delivery records of one event, indexes them, and appends ordered ones to their
-- conversation's queue. Runs again after a crash (hand-off recovery): a record that exists keeps
-- its state, and nothing is appended twice.
-- Answers one number per delivery: 2 = queue its job now, 1 = it waits for its turn in its
-- conversation, 0 = it is already final (delivered, failed or skipped).
local eventIndexKey = KEYS[1]
-- Every delivery of every event, by creation time: GET /v1/deliveries.
local allIndexKey = KEYS[2]
local eventId = ARGV[1]
local eventType = ARGV[2]
local createdAtIso = ARGV[3]
local createdAtMs = ARGV[4]
local ttlSeconds = ARGV[5]
-- Entries of a subscription's index, and of the index of all deliveries, older than this
-- (exclusive, "(<ms>") are trimmed.
local trimBefore = ARGV[6]
-- Then three keys per delivery (its hash, its subscription's index, its conversation queue or,
-- when unordered, its hash again) and three arguments (its id, its subscription id, and its
-- queue entry "<id>\n<job JSON>" or "" when unordered).

local FINAL = { delivered = true, failed = true, skipped = true }

local function isHead(queueKey, id)
  local head = redis.call('LINDEX', queueKey, 0)
  return head and string.sub(head, 1, #id + 1) == id .. '\n'
end

local answers = {}
local created = false
for j = 1, (#KEYS - 2) / 3 do
  local hashKey, subscriptionIndexKey, queueKey = KEYS[3 * j], KEYS[3 * j + 1], KEYS[3 * j + 2]
  local id, subscriptionId, queueEntry = ARGV[3 * j + 4], ARGV[3 * j + 5], ARGV[3 * j + 6]
  -- createdAt is written only here, so its absence means new even if a worker already recorded
  -- an attempt (the job and this script may run in either order).
  if redis.call('HSETNX', hashKey, 'createdAt', createdAtIso) == 1 then
    redis.call('HSET', hashKey, 'id', id, 'eventId', eventId, 'eventType', eventType, 'subscriptionId', subscriptionId)
    redis.call('HSETNX', hashKey, 'status', 'pending')
    redis.call('HSETNX', hashKey, 'updatedAt', createdAtIso)
    redis.call('EXPIRE', hashKey, ttlSeconds)
    redis.call('ZADD', eventIndexKey, createdAtMs, id)
    redis.call('ZADD', subscriptionIndexKey, createdAtMs, id)
    redis.call('ZREMRANGEBYSCORE', subscriptionIndexKey, '-inf', trimBefore)
    redis.call('ZADD', allIndexKey, createdAtMs, id)
    created = true
    if queueEntry ~= '' then
      redis.call('RPUSH', queueKey, queueEntry)
      redis.call('EXPIRE', queueKey, ttlSeconds)
    end
  end
  local status = redis.call('HGET', hashKey, 'status')
  if FINAL[status] then
    answers[j] = 0
  elseif queueEntry ~= '' and not isHead(queueKey, id) then
    answers[j] = 1
  else
    answers[j] = 2
  end
end
redis.call('EXPIRE', eventIndexKey, ttlSeconds)
if created then
  redis.call('ZREMRANGEBYSCORE', allIndexKey, '-inf', trimBefore)
end
return answers
