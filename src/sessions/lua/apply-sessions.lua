-- Applies a batch of changes, each to one session and atomically with the ids it consumes, so that
-- a redelivered event (same id) is never applied twice and two instances cannot both write over
-- one version. One call per batch: each change is checked and written on its own, and one notice
-- with every applied change is published at the end.
-- KEYS[1] open sessions (zset)   KEYS[2] every session (zset)
-- then per change c (from 0): KEYS[3+3c] session hash (ctx, win, v)   KEYS[4+3c] ids already applied (set)
--                             KEYS[5+3c] the customer's sessions (zset)
-- ARGV[1] seconds a closed session stays readable   ARGV[2] change channel
-- ARGV[3] first line of the notice (the writing instance's id, so that it can skip its own); the
--         notice has two lines per applied change, its header and its context (not its windows)
-- then per change: expected version, context JSON, windows JSON, "open" | "closed", the state at the
--                  expected version ("open" | "closed" | "" for a new session), openedAt (ms),
--                  session id, notice header line, number of ids n, then the n ids it consumes
--                  (a session open before and after is already in its indexes, without a TTL: only
--                  its hash and applied ids are written)
-- Answers one reply per change: {1, version} applied; {0, version, ids...} some ids were applied
-- before (nothing written); {-1, version, ctx, win} the session is at another version (nothing written).
local retain, channel = ARGV[1], ARGV[2]
local notice = {ARGV[3]}
local answers = {}
local a, k = 4, 3
while a <= #ARGV do
  local expected, ctx, win, state, was, openedAt, sessionId, header = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7]
  local first, last = a + 9, a + 8 + tonumber(ARGV[a + 8])
  local hash, applied, customer = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  a, k = last + 1, k + 3
  local version = tonumber(redis.call('HGET', hash, 'v') or '0')
  if version ~= tonumber(expected) then
    local current = redis.call('HMGET', hash, 'ctx', 'win')
    answers[#answers + 1] = {-1, version, current[1] or '', current[2] or ''}
  else
    local seen = {0, version}
    if last >= first then
      local member = redis.call('SMISMEMBER', applied, unpack(ARGV, first, last))
      for i = 1, #member do
        if member[i] == 1 then seen[#seen + 1] = ARGV[first + i - 1] end
      end
    end
    if #seen > 2 then
      answers[#answers + 1] = seen
    else
      if last >= first then redis.call('SADD', applied, unpack(ARGV, first, last)) end
      redis.call('HSET', hash, 'ctx', ctx, 'win', win, 'v', version + 1)
      if state ~= 'open' then
        redis.call('ZREM', KEYS[1], sessionId)
        redis.call('EXPIRE', hash, retain)
        redis.call('EXPIRE', applied, retain)
      elseif was ~= 'open' then
        redis.call('ZADD', KEYS[1], openedAt, sessionId)
        redis.call('ZADD', KEYS[2], openedAt, sessionId)
        redis.call('ZADD', customer, openedAt, sessionId)
        redis.call('PERSIST', hash)
        redis.call('PERSIST', applied)
      end
      notice[#notice + 1] = header
      notice[#notice + 1] = ctx
      answers[#answers + 1] = {1, version + 1}
    end
  end
end
if #notice > 1 then redis.call('PUBLISH', channel, table.concat(notice, '\n')) end
return answers
