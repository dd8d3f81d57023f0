-- KEYS: all documents (sorted set), a scratch key. ARGV: prefix, since, until (exclusive),
-- limit, word...  Ids of the documents holding every word, newest first.
local P, since, till, limit = ARGV[1], ARGV[2], '(' .. ARGV[3], tonumber(ARGV[4])
local n = #ARGV - 4
local source = KEYS[1]
if n == 1 then
  source = P .. 'sw:' .. ARGV[5]
elseif n > 1 then
  local words = {}
  for i = 5, #ARGV do words[#words + 1] = P .. 'sw:' .. ARGV[i] end
  -- Smallest first: an absent word ends the search at once.
  for _, key in ipairs(words) do
    if redis.call('EXISTS', key) == 0 then return {} end
  end
  redis.call('ZINTERSTORE', KEYS[2], n, unpack(words))
  source = KEYS[2]
end
local found = redis.call('ZRANGE', source, till, since, 'BYSCORE', 'REV', 'LIMIT', 0, limit)
if n > 1 then redis.call('DEL', KEYS[2]) end
return found
