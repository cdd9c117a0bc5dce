-- wrk script: POST profiles/import of a new customer each time (a sign-up), from the
-- token, db_id and run tag that bench/profiles.py puts in the environment.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("BENCH_TOKEN")
local db_id = os.getenv("BENCH_DB_ID")
local tag = os.getenv("BENCH_TAG")
local n = 0

request = function()
  n = n + 1
  local body = string.format(
    '{"token":"%s","db_id":%s,"email":"c%s-%d@example.com","data":{"phone":"+7900%s%07d"}}',
    token, db_id, tag, n, tag, n)
  return wrk.format(nil, nil, nil, body)
end
