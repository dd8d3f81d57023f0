-- KEYS: all documents (sorted set). ARGV: prefix, since, until (exclusive), limit, word...
-- Ids of the documents holding every word, newest first. The rarest word's set leads: it is
-- read newest first in growing chunks, and each chunk is checked against the other words' sets
-- (ZMSCORE) until enough match, so common words never build their whole intersection.
local P, since, limit = ARGV[1], ARGV[2], tonumber(ARGV[4])
local upper = '(' .. ARGV[3]
if #ARGV == 4 then
  return redis.call('ZRANGE', KEYS[1], upper, since, 'BYSCORE', 'REV', 'LIMIT', 0, limit)
end
local words = {}
for i = 5, #ARGV do
  local key = P .. 'sw:' .. ARGV[i]
  local size = redis.call('ZCARD', key)
  if size == 0 then return {} end
  words[#words + 1] = { key = key, size = size }
end
table.sort(words, function (a, b) return a.size < b.size end)
local lead = words[1].key
local found, skip, chunk = {}, 0, math.max(limit * 2, 100)
while #found < limit do
  local page = redis.call('ZRANGE', lead, upper, since, 'BYSCORE', 'REV', 'LIMIT', skip, chunk, 'WITHSCORES')
  local count = #page / 2
  if count == 0 then break end
  local ids = {}
  for j = 1, count do ids[j] = page[2 * j - 1] end
  local keep = {}
  for j = 1, count do keep[j] = true end
  for w = 2, #words do
    local scores = redis.call('ZMSCORE', words[w].key, unpack(ids))
    for j = 1, count do
      if not scores[j] then keep[j] = false end
    end
  end
  for j = 1, count do
    if keep[j] and #found < limit then found[#found + 1] = ids[j] end
  end
  if count < chunk then break end
  -- Next page: from the last score read (inclusive), skipping the ids already read at it.
  local last, same = page[2 * count], 0
  for j = count, 1, -1 do
    if page[2 * j] == last then same = same + 1 else break end
  end
  if same == count and upper == last then skip = skip + same else skip = same end
  upper = last
  chunk = math.min(chunk * 2, 4000)
end
return found
