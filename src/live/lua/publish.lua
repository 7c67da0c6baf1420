-- Appends a publication to a channel's history with the channel's next offset and announces it to
-- every hub process; or, volatile, only announces it with the current offset.
-- KEYS[1] offset counter  KEYS[2] history stream  KEYS[3] idempotency ids → offset (hash)  KEYS[4] epoch
-- ARGV[1] idempotency id or ''  ARGV[2] data JSON  ARGV[3] history size  ARGV[4] pub/sub channel
-- ARGV[5] channel name  ARGV[6] epoch to use if the channel has none  ARGV[7] history seconds
-- ARGV[8] '1' volatile  ARGV[9] now (ms)  ARGV[10] entries stamped before this (ms) are trimmed
-- Answers {offset, epoch, 1 if the idempotency id was published before (nothing written) else 0}.
-- Entry ids are offsets, not times, so MINID cannot trim by age: each entry carries its stamp `t`,
-- and the oldest are scanned from the head. A bounded scan per publish; what is left waits for the
-- next one (replay skips expired entries meanwhile).
local function trim_older_than(stream, cutoff)
  local newest_expired = nil
  -- The common case is one look at the oldest entry; a scan only starts once it has expired.
  local count = 1
  for _ = 1, 9 do
    local batch = redis.call('XRANGE', stream, newest_expired and ('(' .. newest_expired) or '-', '+', 'COUNT', count)
    for _, entry in ipairs(batch) do
      local stamp = tonumber(entry[2][4])
      -- An entry without a stamp (written before stamps existed) is kept: its age is unknown.
      if stamp == nil or stamp >= cutoff then
        if newest_expired then redis.call('XTRIM', stream, 'MINID', entry[1]) end
        return
      end
      newest_expired = entry[1]
    end
    if #batch < count then break end
    count = 64
  end
  if newest_expired then
    redis.call('XTRIM', stream, 'MINID', newest_expired)
    redis.call('XDEL', stream, newest_expired)
  end
end

local epoch = redis.call('GET', KEYS[4])
if not epoch then
  -- No epoch: a new channel, or one whose history was lost; offsets start again and clients refetch.
  epoch = ARGV[6]
  redis.call('SET', KEYS[4], epoch, 'EX', ARGV[7])
end
if ARGV[8] == '1' then
  local top = tonumber(redis.call('GET', KEYS[1]) or '0')
  redis.call('PUBLISH', ARGV[4], ARGV[5] .. '\n' .. top .. '\n' .. ARGV[2])
  return {top, epoch, 0}
end
if ARGV[1] ~= '' then
  local known = redis.call('HGET', KEYS[3], ARGV[1])
  if known then return {tonumber(known), epoch, 1} end
end
local offset = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '0-' .. offset, 'd', ARGV[2], 't', ARGV[9])
trim_older_than(KEYS[2], tonumber(ARGV[10]))
if ARGV[1] ~= '' then redis.call('HSET', KEYS[3], ARGV[1], offset) end
for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ARGV[7]) end
redis.call('PUBLISH', ARGV[4], ARGV[5] .. '\n' .. offset .. '\n' .. ARGV[2])
return {offset, epoch, 0}
