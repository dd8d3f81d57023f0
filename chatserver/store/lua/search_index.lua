-- KEYS: the document's word set, all documents (sorted set). ARGV: prefix, conversation id,
-- created_at, word...  Replaces the document's postings: each word's sorted set holds the ids
-- of the conversations with that word, scored by creation time.
local P, id, at = ARGV[1], ARGV[2], ARGV[3]
local new = {}
for i = 4, #ARGV do new[ARGV[i]] = true end
for _, word in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if not new[word] then redis.call('ZREM', P .. 'sw:' .. word, id) end
end
redis.call('DEL', KEYS[1])
for i = 4, #ARGV do
  redis.call('ZADD', P .. 'sw:' .. ARGV[i], at, id)
  redis.call('SADD', KEYS[1], ARGV[i])
end
redis.call('ZADD', KEYS[2], at, id)
return 1
