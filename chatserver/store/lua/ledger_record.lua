-- KEYS: ledger hash (id -> entry), ledger order (sorted set of ids by number), ledger counter.
-- ARGV: entry id, time, payload. Records the entry once; returns {number, time, payload, 0|1}
-- (1: it was there already).
local found = redis.call('HGET', KEYS[1], ARGV[1])
if found then
  local entry = cjson.decode(found)
  return {entry[1], entry[2], entry[3], 1}
end
local number = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({number, ARGV[2], ARGV[3]}))
redis.call('ZADD', KEYS[2], number, ARGV[1])
return {number, ARGV[2], ARGV[3], 0}
