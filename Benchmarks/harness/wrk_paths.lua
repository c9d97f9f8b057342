-- wrk script: each thread cycles through its own list of paths (ZB_PATHS_<thread index>, else ZB_PATHS,
-- comma separated); method ZB_METHOD (GET), bearer token ZB_TOKEN, JSON body ZB_BODY for POST.
-- done() prints one line "ZBJSON {...}" with counts and latency percentiles in microseconds (q_us: the
-- distribution as [percentile, µs] pairs, for the plots).
local next_id = 0

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
end

function init(args)
   local list = os.getenv("ZB_PATHS_" .. tostring(tid)) or os.getenv("ZB_PATHS") or "/"
   paths = {}
   for p in string.gmatch(list, "[^,]+") do
      table.insert(paths, p)
   end
   index = 0
   method = os.getenv("ZB_METHOD") or "GET"
   headers = {}
   local token = os.getenv("ZB_TOKEN")
   if token and #token > 0 then
      headers["Authorization"] = "Bearer " .. token
   end
   body = nil
   if method == "POST" then
      headers["Content-Type"] = "application/json"
      body = os.getenv("ZB_BODY") or "{}"
   end
end

function request()
   index = index % #paths + 1
   return wrk.format(method, paths[index], headers, body)
end

function done(summary, latency, requests)
   local e = summary.errors
   -- The distribution for the plots: [percentile, latency µs] pairs from the minimum to the maximum.
   local q = { string.format("[0,%d]", latency.min) }
   for _, p in ipairs({1, 2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 98, 99, 99.5, 99.9}) do
      table.insert(q, string.format("[%g,%d]", p, latency:percentile(p)))
   end
   table.insert(q, string.format("[100,%d]", latency.max))
   io.write(string.format(
      'ZBJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
      '"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d,"q_us":[%s]}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
      table.concat(q, ",")))
end
