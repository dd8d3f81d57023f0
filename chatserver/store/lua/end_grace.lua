-- KEYS: graces hash. ARGV: agent. Returns the status they come back to, for one caller only.
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
return v
