-- KEYS: queue, labels hash. ARGV: conversation id, '1' for the head, '<language>|<anyone from>'.
-- A conversation already waiting keeps its place and takes the new label.
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
if redis.call('LPOS', KEYS[1], ARGV[1]) then return 0 end
if ARGV[2] == '1' then redis.call('LPUSH', KEYS[1], ARGV[1])
else redis.call('RPUSH', KEYS[1], ARGV[1]) end
return 1
