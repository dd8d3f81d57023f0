-- KEYS: the shopper's sorted set of conversations. ARGV: prefix.
-- Returns {their newest conversation's id, {its record as field, value, ...}, its revision};
-- empty: none.
local newest = redis.call('ZRANGE', KEYS[1], -1, -1)
if #newest == 0 then return {} end
return {
  newest[1],
  redis.call('HGETALL', ARGV[1] .. 'conv:' .. newest[1]),
  tonumber(redis.call('GET', ARGV[1] .. 'rev:' .. newest[1]) or '0'),
}
