-- ARGV: prefix, agent, status, capacity, now, ttl ms, languages (space-separated).
-- Returns {status, capacity, open, idle}.
-- The status key expires unless the worker holding the agent's socket refreshes it.
-- Uses the routing helpers of _routing.lua, prepended when loaded.
local id, status = ARGV[2], ARGV[3]
local pk, sk = P .. 'presence:' .. id, P .. 'status:' .. id
local before = redis.call('GET', sk) or 'offline'
if redis.call('HEXISTS', pk, 'idle_since') == 0
    or (status == 'online' and before ~= 'online') then
  redis.call('HSET', pk, 'idle_since', ARGV[5])
end
redis.call('HSET', pk, 'capacity', ARGV[4], 'chosen', status, 'langs', ARGV[7])
if status == 'offline' then redis.call('DEL', sk)
else redis.call('SET', sk, status, 'PX', ARGV[6]) end
redis.call('SADD', KEYS[2], id)
return {status, ARGV[4], redis.call('SCARD', P .. 'chats:' .. id), redis.call('HGET', pk, 'idle_since')}
