-- KEYS: seq counter, stream, client_id hash, record hash, record revision. ARGV: expected seq,
-- text, client_id or '', nonce, pub/sub channel or '', payload head, expected revision or '',
-- payload tail, then record fields and values (set when new; each such write raises the
-- revision). A new event is published in the same call (the bus's format): head .. seq .. tail
-- .. text, or with record fields head .. seq .. '/' .. new revision .. tail .. text.
-- Returns {'ok', seq, revision} | {'dup', seq, text, nonce} | {'conflict', current seq}
-- | {'stale', revision, record as field, value, ...} (the record changed since it was read).
local function entry(seq)
  local rows = redis.call('XRANGE', KEYS[2], seq .. '-0', seq .. '-0')
  if #rows == 0 then return nil end
  local f, out = rows[1][2], {}
  for i = 1, #f, 2 do out[f[i]] = f[i + 1] end
  return out
end
if ARGV[3] ~= '' then
  local known = redis.call('HGET', KEYS[3], ARGV[3])
  if known then
    local e = entry(known) or {}
    return {'dup', tonumber(known), e.b or '', e.n or ''}
  end
end
local rev = tonumber(redis.call('GET', KEYS[5]) or '0')
if ARGV[7] ~= '' and tonumber(ARGV[7]) ~= rev then
  return {'stale', rev, redis.call('HGETALL', KEYS[4])}
end
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local expected = tonumber(ARGV[1])
if current ~= expected then
  if current > expected then
    -- A retried call whose first attempt was stored (its reply lost) finds its own nonce.
    local e = entry(expected + 1)
    if e and e.n == ARGV[4] then return {'dup', expected + 1, e.b, e.n} end
  end
  return {'conflict', current}
end
local seq = expected + 1
redis.call('SET', KEYS[1], seq)
redis.call('XADD', KEYS[2], seq .. '-0', 'b', ARGV[2], 'n', ARGV[4])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[3], ARGV[3], seq) end
local mid = ARGV[8]
if #ARGV > 8 then
  redis.call('HSET', KEYS[4], unpack(ARGV, 9))
  rev = redis.call('INCR', KEYS[5])
  mid = '/' .. rev .. mid
end
if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[5], ARGV[6] .. seq .. mid .. ARGV[2]) end
return {'ok', seq, rev}
