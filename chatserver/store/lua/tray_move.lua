-- KEYS: tray sorted set. ARGV: item id, expected score, new score.
-- Moves the item only if its score is still the expected one (a claim by one worker).
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
