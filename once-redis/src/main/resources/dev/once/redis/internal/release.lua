-- Deletes an in-progress record held with the current token. KEYS[1]: the record's hash.
-- ARGV[1]: token, ARGV[2]: clock offset ms. Answers {1}, or {0} when the token is not current or the record is gone.
local t = redis.call('TIME')
local now = math.floor((tonumber(t[1]) * 1000000 + tonumber(t[2])) / 1000) + tonumber(ARGV[2])
local r = redis.call('HMGET', KEYS[1], 'status', 'token', 'expires_at')
if r[1] ~= 'P' or r[2] ~= ARGV[1] or tonumber(r[3]) <= now then
  return {0}
end
redis.call('DEL', KEYS[1])
return {1}
