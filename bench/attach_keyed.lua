-- wrk script: POST the attach body of bench/retries.py with an Idempotency-Key: a new key for
-- every request (BENCH_KEY_PREFIX and a counter), or one key every time (BENCH_KEY: replays).
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
local prefix = os.getenv("BENCH_KEY_PREFIX") or "key-"
local fixed = os.getenv("BENCH_KEY")
local counter = 0

request = function()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = fixed or (prefix .. counter)
  return wrk.format()
end
