-- KEYS: conversation hash, old shopper's set, new shopper's set, the record's revision.
-- ARGV: conversation id, new shopper_id as JSON text. Returns 0 when there is no such conversation.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local created = redis.call('HGET', KEYS[1], 'created_at') or '0'
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], tonumber(created), ARGV[1])
redis.call('HSET', KEYS[1], 'shopper_id', ARGV[2])
redis.call('INCR', KEYS[4])
return 1
