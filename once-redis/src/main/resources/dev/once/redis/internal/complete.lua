-- Completes a claim. KEYS[1]: the record's hash.
-- ARGV[1]: token, ARGV[2]: outcome bytes, ARGV[3]: retention ms, ARGV[4]: clock offset ms.
-- Answers {1}, or {0} when the token is not current, the record is gone, or it was completed with another outcome.
local t = redis.call('TIME')
local now = math.floor((tonumber(t[1]) * 1000000 + tonumber(t[2])) / 1000) + tonumber(ARGV[4])
local r = redis.call('HMGET', KEYS[1], 'status', 'token', 'expires_at')
if r[2] ~= ARGV[1] or tonumber(r[3]) <= now then
  return {0}
end
if r[1] == 'C' then
  -- The same completion again (its first reply was lost): already done, and it changes nothing.
  if redis.call('HGET', KEYS[1], 'outcome') == ARGV[2] then
    return {1}
  end
  return {0}
end
if r[1] ~= 'P' then
  return {0}
end
local expires_at = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'status', 'C', 'outcome', ARGV[2], 'lease_until', string.format('%.0f', now),
  'expires_at', string.format('%.0f', expires_at))
redis.call('PEXPIRE', KEYS[1], expires_at - now)
return {1}
