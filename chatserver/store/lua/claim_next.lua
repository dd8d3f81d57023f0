-- ARGV: prefix, now. Returns {conversation, agent} or nil.
-- Uses the routing helpers of _routing.lua, prepended when loaded.
if redis.call('LLEN', KEYS[1]) == 0 then return false end
local best, best_n, best_idle
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local n = room(id)
  if n then
    local idle = tonumber(redis.call('HGET', P .. 'presence:' .. id, 'idle_since') or '0')
    if best == nil or n < best_n or (n == best_n and (idle < best_idle
        or (idle == best_idle and id < best))) then
      best, best_n, best_idle = id, n, idle
    end
  end
end
if best == nil then return false end
local cid = redis.call('LPOP', KEYS[1])
take(best, cid, ARGV[2])
return {cid, best}
