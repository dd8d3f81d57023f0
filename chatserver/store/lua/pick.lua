-- ARGV: prefix, now, conversation, agent. Returns 1 when the agent took the waiting conversation;
-- 0 when it is not waiting or the agent (online or away: a pick is their own choice) has no room.
-- Uses the routing helpers of _routing.lua, prepended when loaded.
local status = redis.call('GET', P .. 'status:' .. ARGV[4])
if status ~= 'online' and status ~= 'away' then return 0 end
local cap = tonumber(redis.call('HGET', P .. 'presence:' .. ARGV[4], 'capacity') or '0')
if redis.call('SCARD', P .. 'chats:' .. ARGV[4]) >= cap then return 0 end
if redis.call('LREM', KEYS[1], 1, ARGV[3]) == 0 then return 0 end
take(ARGV[4], ARGV[3], ARGV[2])
return 1
