-- Shared by the routing scripts. KEYS: queue, agents set, holders hash. ARGV[1]: prefix.
local P = ARGV[1]
local function room(id)
  if redis.call('GET', P .. 'status:' .. id) ~= 'online' then return nil end
  local cap = tonumber(redis.call('HGET', P .. 'presence:' .. id, 'capacity') or '0')
  local n = redis.call('SCARD', P .. 'chats:' .. id)
  if n < cap then return n end
  return nil
end
local function take(id, cid, now)
  local holder = redis.call('HGET', KEYS[3], cid)
  if holder then redis.call('SREM', P .. 'chats:' .. holder, cid) end
  redis.call('SADD', P .. 'chats:' .. id, cid)
  redis.call('HSET', KEYS[3], cid, id)
  redis.call('HSET', P .. 'presence:' .. id, 'idle_since', now)
  redis.call('SADD', KEYS[2], id)
  redis.call('HDEL', P .. 'qlang', cid)
end
