-- ARGV: prefix. Returns id, status, capacity, open chats, idle since, chosen, languages
-- (space-separated); seven per agent.
-- Uses the routing helpers of _routing.lua, prepended when loaded.
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local pk = P .. 'presence:' .. id
  out[#out + 1] = id
  out[#out + 1] = redis.call('GET', P .. 'status:' .. id) or 'offline'
  out[#out + 1] = redis.call('HGET', pk, 'capacity') or '0'
  out[#out + 1] = redis.call('SCARD', P .. 'chats:' .. id)
  out[#out + 1] = redis.call('HGET', pk, 'idle_since') or '0'
  out[#out + 1] = redis.call('HGET', pk, 'chosen') or 'offline'
  out[#out + 1] = redis.call('HGET', pk, 'langs') or ''
end
return out
