-- ARGV: prefix, now. Returns {conversation, agent} or nil.
-- The first waiting conversation some online agent with room may take goes to the best of them
-- (fewest open chats, then longest idle): before its time in 'qlang' (conversation ->
-- '<language>|<anyone from>') only an agent who speaks its language may take it.
-- Uses the routing helpers of _routing.lua, prepended when loaded.
if redis.call('LLEN', KEYS[1]) == 0 then return false end
local ready = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local n = room(id)
  if n then
    local got = redis.call('HMGET', P .. 'presence:' .. id, 'idle_since', 'langs')
    local spoken = {}
    for code in string.gmatch(got[2] or '', '%S+') do spoken[code] = true end
    ready[#ready + 1] = {id = id, n = n, idle = tonumber(got[1] or '0'), spoken = spoken}
  end
end
if #ready == 0 then return false end
table.sort(ready, function(a, b)
  if a.n ~= b.n then return a.n < b.n end
  if a.idle ~= b.idle then return a.idle < b.idle end
  return a.id < b.id
end)
-- The best agent for each language any of them speaks: the queue is then walked once.
local best_for = {}
for _, agent in ipairs(ready) do
  for code in pairs(agent.spoken) do
    if best_for[code] == nil then best_for[code] = agent.id end
  end
end
local now = tonumber(ARGV[2])
-- The queue is read from its head in pages (growing), with their labels in one call each: a
-- claim that takes one of the first waiting does not copy the whole queue.
local from, size = 0, 16
while true do
  local page = redis.call('LRANGE', KEYS[1], from, from + size - 1)
  if #page == 0 then return false end
  local labels = redis.call('HMGET', P .. 'qlang', unpack(page))
  for i, cid in ipairs(page) do
    local label, agent = labels[i], ready[1].id
    if label then
      local bar = string.find(label, '|', 1, true)
      local language = string.sub(label, 1, bar - 1)
      if language ~= '' and now < tonumber(string.sub(label, bar + 1)) then
        agent = best_for[language]
      end
    end
    if agent then
      redis.call('LREM', KEYS[1], 1, cid)
      take(agent, cid, ARGV[2])
      return {cid, agent}
    end
  end
  if #page < size then return false end
  from, size = from + size, math.min(size * 4, 1024)
end
