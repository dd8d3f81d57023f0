-- KEYS: the shopper's sorted set of conversations. ARGV: prefix.
-- Returns the record of their newest conversation as field, value, ... (empty: none).
local newest = redis.call('ZRANGE', KEYS[1], -1, -1)
if #newest == 0 then return {} end
return redis.call('HGETALL', ARGV[1] .. 'conv:' .. newest[1])
