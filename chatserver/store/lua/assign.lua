-- ARGV: prefix, now, conversation, agent. Returns 1 when given, 0 when the agent has no room.
-- Uses the routing helpers of _routing.lua, prepended when loaded.
if not room(ARGV[4]) then return 0 end
redis.call('LREM', KEYS[1], 1, ARGV[3])
take(ARGV[4], ARGV[3], ARGV[2])
return 1
