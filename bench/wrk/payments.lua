-- POST /payments on the payments example, as `once-benchmarks --only http` sends it, for wrk
-- (the Debian package `wrk`). The harness runs it; by hand, against `java -jar once-payments.jar`:
--
--   wrk -t2 -c8 -d10s --latency -s bench/wrk/payments.lua http://127.0.0.1:8080/payments -- off
--   wrk -t2 -c8 -d10s --latency -s bench/wrk/payments.lua http://127.0.0.1:8080/payments -- fresh run1
--   wrk ... -- replay <prefix> <n>     keys <prefix>-0 .. <prefix>-<n-1>, completed beforehand
--   wrk ... -- conflict <key>          one key, held in flight by another request (answers 409)
--
-- off: no Idempotency-Key. fresh <prefix>: a key never used before per request (<prefix>-<thread>-<n>).

local body = '{"customerId":"cus_bench","amountCents":1250,"currency":"EUR"}'
local base = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Basic YWxpY2U6YWxpY2U=", -- alice:alice, the example's demo user
}

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local mode, first, second
local counter = 0

function init(args)
  mode = args[1] or "off"
  first = args[2]
  second = tonumber(args[3])
end

function request()
  counter = counter + 1
  local headers = {}
  for k, v in pairs(base) do
    headers[k] = v
  end
  if mode == "fresh" then
    headers["Idempotency-Key"] = first .. "-" .. thread_id .. "-" .. counter
  elseif mode == "replay" then
    headers["Idempotency-Key"] = first .. "-" .. ((counter * threads + thread_id) % second)
  elseif mode == "conflict" then
    headers["Idempotency-Key"] = first
  end
  return wrk.format("POST", nil, headers, body)
end
