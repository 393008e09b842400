-- wrk: the soak's mixed workload, in proportions a busy desk might see: case reads,
-- case lists, new reports, health checks.
local token = "Bearer " .. os.getenv("BENCH_TOKEN")
local cases = tonumber(os.getenv("BENCH_CASES") or "1000")
local counter = 0
request = function()
  counter = counter + 1
  local pick = counter % 20
  local headers = { ["Authorization"] = token }
  if pick < 12 then
    return wrk.format("GET", "/api/cases/BENCH-SEC-" .. (counter % cases + 1), headers)
  elseif pick < 16 then
    return wrk.format("GET", "/api/cases?project=BENCH&limit=50", headers)
  elseif pick < 18 then
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", "/api/cases", headers,
      '{"project":"BENCH","title":"Soak report","description":"soak","reporter":{"email":"soak@example.net"}}')
  else
    return wrk.format("GET", "/healthz", headers)
  end
end
