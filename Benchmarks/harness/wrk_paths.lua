-- wrk script: each thread cycles through its own list of paths (ZB_PATHS_<thread index>, else ZB_PATHS,
-- comma separated); method ZB_METHOD (GET), bearer token ZB_TOKEN, JSON body ZB_BODY for POST.
-- done() prints one line "ZBJSON {...}" with counts and latency percentiles in microseconds.
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
   io.write(string.format(
      'ZBJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
      '"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
