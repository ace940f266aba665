-- Deletes an in-progress record whatever its token (an operator's release of a stuck key); never a completed one.
-- KEYS[1]: the record's hash. Answers {1} if deleted, else {0}.
if redis.call('HGET', KEYS[1], 'status') ~= 'P' then
  return {0}
end
redis.call('DEL', KEYS[1])
return {1}
