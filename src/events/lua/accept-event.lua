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
-- companion hashes h, index entries x and reads r, and those as one JSON array ("" when there are
-- none; see CompanionRecords and CompanionRead in src/events/hub-event.ts). One argument, not one
-- per value: the client's cost is per argument. In that array, the h hashes first, each
-- [expiry seconds, [field, value, ...]] (the first pair only written when the hash has no such
-- field, i.e. the hash is new: otherwise the hash is left as it is); then the x index entries, each
-- [score, member, trim bound ("(<score>" removes entries scored below it, "" none), expiry seconds
-- ("" none)]; then the r reads, each [field, ...], HMGET for a new event only. Numbers reach Redis
-- as Lua formats them (integers below 10^14 exactly). Its keys, from KEYS[2]: its record, its h
-- hashes, the x sorted sets of its index entries, the r hashes read. A new event with reads
-- answers {1, values of read 1, ...} instead of 1.

local answers = {}
local at = 3
local k = 2
for e = 1, count do
  local recordKey = KEYS[k]
  local recordJson, acceptedAtMs, eventId, bodyHash = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3]
  local hashCount, indexCount, readCount, companionJson = tonumber(ARGV[at + 4]), tonumber(ARGV[at + 5]), tonumber(ARGV[at + 6]), ARGV[at + 7]
  at = at + 8
  if not redis.call('SET', recordKey, recordJson, 'EX', ttlSeconds, 'NX') then
    -- Only on a repeated id, so the decode costs nothing on the hot path.
    local ok, existing = pcall(cjson.decode, redis.call('GET', recordKey) or '{}')
    local storedHash = ok and existing['bodyHash'] or nil
    if bodyHash == '' or type(storedHash) ~= 'string' or storedHash == bodyHash then
      answers[e] = 0
    else
      answers[e] = -1
    end
  else
    redis.call('ZADD', handoffKey, acceptedAtMs, eventId)
    local companion = companionJson ~= '' and cjson.decode(companionJson) or {}
    for h = 1, hashCount do
      local key, expiry, fields = KEYS[k + h], companion[h][1], companion[h][2]
      if redis.call('HSETNX', key, fields[1], fields[2]) == 1 then
        if #fields > 2 then
          redis.call('HSET', key, unpack(fields, 3))
        end
        redis.call('EXPIRE', key, expiry)
      end
    end
    for i = 1, indexCount do
      local key, entry = KEYS[k + hashCount + i], companion[hashCount + i]
      redis.call('ZADD', key, entry[1], entry[2])
      if entry[3] ~= '' then
        redis.call('ZREMRANGEBYSCORE', key, '-inf', entry[3])
      end
      if entry[4] ~= '' then
        redis.call('EXPIRE', key, entry[4])
      end
    end
    answers[e] = 1
    if readCount > 0 then
      local answer = {1}
      for r = 1, readCount do
        answer[r + 1] = redis.call('HMGET', KEYS[k + hashCount + indexCount + r], unpack(companion[hashCount + indexCount + r]))
      end
      answers[e] = answer
    end
  end
  k = k + 1 + hashCount + indexCount + readCount
end
return answers
