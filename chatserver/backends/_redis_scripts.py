"""Lua scripts of the Redis backend: each runs atomically inside Redis, so workers never race.

Routing scripts build agent keys from the prefix (``ARGV[1]``) instead of declaring them all in
``KEYS``: fine on one Redis server, which is what the backend targets (not Redis Cluster).
Floats (times) go in and out as the strings Python wrote, because Redis truncates Lua numbers
to integers in replies.
"""

from __future__ import annotations

# KEYS: seq counter, stream, client_id hash. ARGV: expected seq, text, client_id or '', nonce.
# Returns {'ok', seq} | {'dup', seq, text, nonce} | {'conflict', current seq}.
APPEND = """
local function entry(seq)
  local rows = redis.call('XRANGE', KEYS[2], seq .. '-0', seq .. '-0')
  if #rows == 0 then return nil end
  local f, out = rows[1][2], {}
  for i = 1, #f, 2 do out[f[i]] = f[i + 1] end
  return out
end
if ARGV[3] ~= '' then
  local known = redis.call('HGET', KEYS[3], ARGV[3])
  if known then
    local e = entry(known) or {}
    return {'dup', tonumber(known), e.b or '', e.n or ''}
  end
end
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local expected = tonumber(ARGV[1])
if current ~= expected then
  if current > expected then
    -- A retried call whose first attempt was stored (its reply lost) finds its own nonce.
    local e = entry(expected + 1)
    if e and e.n == ARGV[4] then return {'dup', expected + 1, e.b, e.n} end
  end
  return {'conflict', current}
end
local seq = expected + 1
redis.call('SET', KEYS[1], seq)
redis.call('XADD', KEYS[2], seq .. '-0', 'b', ARGV[2], 'n', ARGV[4])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[3], ARGV[3], seq) end
if #ARGV > 4 then redis.call('HSET', KEYS[4], unpack(ARGV, 5)) end
return {'ok', seq}
"""

# KEYS: conversation hash. ARGV: field, value, field, value...  Returns 0 when there is none.
UPDATE_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""

# KEYS: queue. ARGV: conversation id, '1' for the head.
ENQUEUE = """
if redis.call('LPOS', KEYS[1], ARGV[1]) then return 0 end
if ARGV[2] == '1' then redis.call('LPUSH', KEYS[1], ARGV[1])
else redis.call('RPUSH', KEYS[1], ARGV[1]) end
return 1
"""

# Shared by the routing scripts. KEYS: queue, agents set, holders hash. ARGV[1]: prefix.
_ROUTING = """
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
end
"""

# ARGV: prefix, now. Returns {conversation, agent} or nil.
CLAIM_NEXT = (
    _ROUTING
    + """
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
"""
)

# ARGV: prefix, now, conversation, agent. Returns 1 when given, 0 when the agent has no room.
ASSIGN = (
    _ROUTING
    + """
if not room(ARGV[4]) then return 0 end
redis.call('LREM', KEYS[1], 1, ARGV[3])
take(ARGV[4], ARGV[3], ARGV[2])
return 1
"""
)

# ARGV: prefix, now, agent, conversation.
RELEASE = (
    _ROUTING
    + """
if redis.call('SREM', P .. 'chats:' .. ARGV[3], ARGV[4]) == 1 then
  redis.call('HSET', P .. 'presence:' .. ARGV[3], 'idle_since', ARGV[2])
end
if redis.call('HGET', KEYS[3], ARGV[4]) == ARGV[3] then redis.call('HDEL', KEYS[3], ARGV[4]) end
return 1
"""
)

# ARGV: prefix, agent, status, capacity, now, ttl ms. Returns {status, capacity, open, idle}.
# The status key expires unless the worker holding the agent's socket refreshes it.
SET_PRESENCE = (
    _ROUTING
    + """
local id, status = ARGV[2], ARGV[3]
local pk, sk = P .. 'presence:' .. id, P .. 'status:' .. id
local before = redis.call('GET', sk) or 'offline'
if redis.call('HEXISTS', pk, 'idle_since') == 0
    or (status == 'online' and before ~= 'online') then
  redis.call('HSET', pk, 'idle_since', ARGV[5])
end
redis.call('HSET', pk, 'capacity', ARGV[4])
if status == 'offline' then redis.call('DEL', sk)
else redis.call('SET', sk, status, 'PX', ARGV[6]) end
redis.call('SADD', KEYS[2], id)
return {status, ARGV[4], redis.call('SCARD', P .. 'chats:' .. id), redis.call('HGET', pk, 'idle_since')}
"""
)

# ARGV: prefix. Returns id, status, capacity, open chats, idle since; five items per agent.
PRESENCE = (
    _ROUTING
    + """
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local pk = P .. 'presence:' .. id
  out[#out + 1] = id
  out[#out + 1] = redis.call('GET', P .. 'status:' .. id) or 'offline'
  out[#out + 1] = redis.call('HGET', pk, 'capacity') or '0'
  out[#out + 1] = redis.call('SCARD', P .. 'chats:' .. id)
  out[#out + 1] = redis.call('HGET', pk, 'idle_since') or '0'
end
return out
"""
)
