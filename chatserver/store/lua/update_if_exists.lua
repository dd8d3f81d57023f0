-- KEYS: conversation hash, its revision. ARGV: field, value, field, value...
-- Returns 0 when there is none; else the record's new revision.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return redis.call('INCR', KEYS[2])
