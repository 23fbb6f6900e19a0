-- Shared by every wrk script of bench/edge.ts (loaded with dofile): counts statuses per thread
-- and prints one JSON line the benchmark parses. Latencies are microseconds.
threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

codes = {}

function count_status(status)
  codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("codes")
    for status, n in pairs(c) do merged[status] = (merged[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(merged) do table.insert(parts, string.format('"%d":%d', status, n)) end
  local wraps = 0
  for _, thread in ipairs(threads) do wraps = wraps + (thread:get("wraps") or 0) end
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
      '"status_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"wraps":%d,"codes":{%s}}\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, latency:percentile(50), latency:percentile(99),
    latency.max, wraps, table.concat(parts, ",")))
end
