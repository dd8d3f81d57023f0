-- KEYS: conversation hash. ARGV: field, value, field, value...  Returns 0 when there is none.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
