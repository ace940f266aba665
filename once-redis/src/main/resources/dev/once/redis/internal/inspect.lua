-- Reads a record for an operator. KEYS[1]: the record's hash. ARGV[1]: clock offset ms, ARGV[2]: '1' to include
-- the outcome. Answers {} when there is no record, else {status, token, lease_until, expires_at, now[, outcome]}.
local t = redis.call('TIME')
local now = math.floor((tonumber(t[1]) * 1000000 + tonumber(t[2])) / 1000) + tonumber(ARGV[1])
local r = redis.call('HMGET', KEYS[1], 'status', 'token', 'lease_until', 'expires_at', 'outcome')
if not r[1] then
  return {}
end
local reply = {r[1], r[2], r[3], r[4], now}
if ARGV[2] == '1' and r[5] then
  reply[6] = r[5]
end
return reply
