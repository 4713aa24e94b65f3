-- wrk script of the server benchmark (run.sh): POSTs the search bodies of the file named by
-- VEXFS_QUERIES (one JSON body per line, as `http_load bodies` writes them) to
-- /collections/$VEXFS_COLLECTION/points/search, each wrk thread cycling through all of them from
-- its own offset. Requests are formatted once, in init. done() prints one machine-readable line:
--   wrk requests=N seconds=S rps=R mean_us= p50_us= p90_us= p99_us= max_us= errors=E non2xx=X
-- (errors: connect, read, write and timeout errors; non2xx: answers that were not 2xx or 3xx).

local collection = os.getenv("VEXFS_COLLECTION") or "bench"
local path = "/collections/" .. collection .. "/points/search"
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

local reqs = {}
local at = 0

function init(args)
  local name = os.getenv("VEXFS_QUERIES")
  local f = assert(io.open(name, "r"), "search.lua: cannot open VEXFS_QUERIES=" .. tostring(name))
  local headers = {["Content-Type"] = "application/json"}
  for line in f:lines() do
    if #line > 0 then reqs[#reqs + 1] = wrk.format("POST", path, headers, line) end
  end
  f:close()
  assert(#reqs > 0, "search.lua: no bodies in " .. name)
  at = (thread_index * 7919) % #reqs -- threads start apart
end

function request()
  at = at % #reqs + 1
  return reqs[at]
end

function done(summary, latency, requests)
  local e = summary.errors
  local s = summary.duration / 1e6
  io.write(string.format(
    "wrk requests=%d seconds=%.3f rps=%.1f mean_us=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f " ..
    "max_us=%.1f errors=%d non2xx=%d\n",
    summary.requests, s, summary.requests / s, latency.mean, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
