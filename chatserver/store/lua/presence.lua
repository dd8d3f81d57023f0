-- ARGV: prefix. Returns id, status, capacity, open chats, idle since, chosen, languages
-- (space-separated); seven per agent. Three commands per agent.
-- Uses the routing helpers of _routing.lua, prepended when loaded.
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local got = redis.call('HMGET', P .. 'presence:' .. id, 'capacity', 'idle_since', 'chosen', 'langs')
  out[#out + 1] = id
  out[#out + 1] = redis.call('GET', P .. 'status:' .. id) or 'offline'
  out[#out + 1] = got[1] or '0'
  out[#out + 1] = redis.call('SCARD', P .. 'chats:' .. id)
  out[#out + 1] = got[2] or '0'
  out[#out + 1] = got[3] or 'offline'
  out[#out + 1] = got[4] or ''
end
return out
