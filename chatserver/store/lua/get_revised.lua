-- KEYS: a record's hash, its revision. Returns {revision, {record as field, value, ...}}.
return {tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('HGETALL', KEYS[1])}
