-- Claims one record. KEYS[1]: the record's hash.
-- ARGV[1]: fingerprint (32 bytes), ARGV[2]: lease ms, ARGV[3]: retention ms, ARGV[4]: clock offset ms (tests only).
-- Answers {'A', token} | {'T', token} (acquired by taking over a live record's expired lease: the earlier
-- holder's effect may have run) | {'C', outcome} | {'I', lease ms left} | {'M'}.
-- Every time decision uses Redis's clock (TIME) plus the offset; the TTL is set here (PEXPIRE), never by a client.
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now = math.floor(now_us / 1000) + tonumber(ARGV[4])
local r = redis.call('HMGET', KEYS[1], 'status', 'fingerprint', 'token', 'lease_until', 'expires_at')
local status = r[1]
local taken_over = false
-- A record past its retention is absent (a live lease always keeps expires_at ahead, see below).
if status and tonumber(r[5]) > now then
  if r[2] ~= ARGV[1] then
    return {'M'}
  end
  if status == 'C' then
    return {'C', redis.call('HGET', KEYS[1], 'outcome')}
  end
  local lease_until = tonumber(r[4])
  if lease_until > now then
    return {'I', lease_until - now}
  end
  -- An expired lease with the same fingerprint: take it over.
  taken_over = true
end
-- Fencing: larger than the record's last token, and than any token of a record that was released or
-- purged earlier, as long as Redis's clock does not go back (tokens are its microseconds).
local token = now_us
local old = tonumber(r[3])
if old and old >= token then
  token = old + 1
end
local lease_until = now + tonumber(ARGV[2])
local expires_at = math.max(lease_until, now + tonumber(ARGV[3]))
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'status', 'P', 'fingerprint', ARGV[1], 'token', string.format('%.0f', token),
  'lease_until', string.format('%.0f', lease_until), 'expires_at', string.format('%.0f', expires_at))
redis.call('PEXPIRE', KEYS[1], expires_at - now)
if taken_over then
  return {'T', token}
end
return {'A', token}
