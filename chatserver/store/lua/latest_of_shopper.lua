-- KEYS: the shopper's sorted set of conversations. ARGV: prefix.
-- Returns {their newest conversation's id, its record as field, value, ...}; empty: none.
local newest = redis.call('ZRANGE', KEYS[1], -1, -1)
if #newest == 0 then return {} end
return {newest[1], redis.call('HGETALL', ARGV[1] .. 'conv:' .. newest[1])}
