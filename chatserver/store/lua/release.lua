-- ARGV: prefix, now, agent, conversation.
-- Uses the routing helpers of _routing.lua, prepended when loaded.
if redis.call('SREM', P .. 'chats:' .. ARGV[3], ARGV[4]) == 1 then
  redis.call('HSET', P .. 'presence:' .. ARGV[3], 'idle_since', ARGV[2])
end
if redis.call('HGET', KEYS[3], ARGV[4]) == ARGV[3] then redis.call('HDEL', KEYS[3], ARGV[4]) end
return 1
