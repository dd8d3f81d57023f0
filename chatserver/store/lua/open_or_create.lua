-- KEYS: the shopper's sorted set, the new record's hash, the conversations sorted set.
-- ARGV: prefix, new id, created_at, field, value, ...
-- Returns the shopper's open conversation (their newest, unless closed), or the new one, created.
local newest = redis.call('ZRANGE', KEYS[1], -1, -1)[1]
if newest and redis.call('HGET', ARGV[1] .. 'conv:' .. newest, 'status') ~= '"closed"' then
  return newest
end
redis.call('HSET', KEYS[2], unpack(ARGV, 4))
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
return ARGV[2]
