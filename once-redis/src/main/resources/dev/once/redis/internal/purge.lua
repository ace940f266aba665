-- Deletes the record if its retention is over and it holds no live lease. KEYS[1]: the record's hash.
-- ARGV[1]: clock offset ms. Answers {1} if deleted, else {0}.
local t = redis.call('TIME')
local now = math.floor((tonumber(t[1]) * 1000000 + tonumber(t[2])) / 1000) + tonumber(ARGV[1])
local r = redis.call('HMGET', KEYS[1], 'status', 'lease_until', 'expires_at')
if not r[1] then
  return {0}
end
if tonumber(r[3]) <= now and (r[1] == 'C' or tonumber(r[2]) <= now) then
  redis.call('DEL', KEYS[1])
  return {1}
end
return {0}
