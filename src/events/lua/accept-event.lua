-- Accepts events once, each in turn: stores its record unless one exists (the idempotency check),
-- marks it as not yet handed to delivery and writes the records other features create with a new
-- event (delivery's records and indexes), all in one call. A repeated id writes nothing; its
-- answer is 0 when the stored event has the same body hash (a retry) and -1 when it has another
-- (the id was reused); a stored one answers 1. One event per call for POST /v1/events; the events
-- an inbound turn made go together (IngestService.ingestMany).
local handoffKey = KEYS[1]
local ttlSeconds = ARGV[1]
local count = tonumber(ARGV[2])
-- Per event, from ARGV[3]: its record (JSON), accepted-at (ms), id, body hash, the number of
-- companion hashes h and index entries x. Its keys, from KEYS[2]: its record, then its h hashes,
-- then the x sorted sets of its index entries. Companion records (see CompanionRecords in
-- src/events/hub-event.ts) follow the event's six arguments: per hash, its expiry in seconds, its
-- number of fields n, then n field/value pairs (the first pair only written when the hash has no
-- such field, i.e. the hash is new: otherwise the hash is left as it is); per index entry: score,
-- member, trim bound ("(<score>" removes entries scored below it, "" none) and expiry in seconds
-- ("" none).

local answers = {}
local at = 3
local k = 2
for e = 1, count do
  local recordKey = KEYS[k]
  local recordJson, acceptedAtMs, eventId, bodyHash = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3]
  local hashCount, indexCount = tonumber(ARGV[at + 4]), tonumber(ARGV[at + 5])
  at = at + 6
  if not redis.call('SET', recordKey, recordJson, 'EX', ttlSeconds, 'NX') then
    -- Only on a repeated id, so the decode costs nothing on the hot path.
    local ok, existing = pcall(cjson.decode, redis.call('GET', recordKey) or '{}')
    local storedHash = ok and existing['bodyHash'] or nil
    if bodyHash == '' or type(storedHash) ~= 'string' or storedHash == bodyHash then
      answers[e] = 0
    else
      answers[e] = -1
    end
    -- Skip its companion records' arguments.
    for h = 1, hashCount do
      at = at + 2 + 2 * tonumber(ARGV[at + 1])
    end
    at = at + 4 * indexCount
  else
    redis.call('ZADD', handoffKey, acceptedAtMs, eventId)
    for h = 1, hashCount do
      local key = KEYS[k + h]
      local expiry, fields = ARGV[at], tonumber(ARGV[at + 1])
      if redis.call('HSETNX', key, ARGV[at + 2], ARGV[at + 3]) == 1 then
        if fields > 1 then
          redis.call('HSET', key, unpack(ARGV, at + 4, at + 1 + 2 * fields))
        end
        redis.call('EXPIRE', key, expiry)
      end
      at = at + 2 + 2 * fields
    end
    for i = 1, indexCount do
      local key = KEYS[k + hashCount + i]
      local score, member, trimBelow, expiry = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3]
      redis.call('ZADD', key, score, member)
      if trimBelow ~= '' then
        redis.call('ZREMRANGEBYSCORE', key, '-inf', trimBelow)
      end
      if expiry ~= '' then
        redis.call('EXPIRE', key, expiry)
      end
      at = at + 4
    end
    answers[e] = 1
  end
  k = k + 1 + hashCount + indexCount
end
return answers
