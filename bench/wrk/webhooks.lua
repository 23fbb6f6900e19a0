-- POST of pre-signed Svix deliveries, each sent once: the file (argument 1) has one delivery per
-- line (svix-id, svix-timestamp, svix-signature, body; tab separated) and thread n of N
-- (argument 2) sends lines n, n+N, ... Running out starts the thread's list again (counted as a
-- wrap; those are duplicates, cheaper than real deliveries, so the benchmark sizes the file to
-- avoid them and reports any).
local deliveries = {}
local at = 0
wraps = 0

function init(args)
  local count = tonumber(args[2])
  local n = 0
  for line in io.lines(args[1]) do
    if n % count == tid then
      local id, timestamp, signature, body = string.match(line, "^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      table.insert(deliveries, wrk.format("POST", nil, {
        ["content-type"] = "application/json",
        ["svix-id"] = id,
        ["svix-timestamp"] = timestamp,
        ["svix-signature"] = signature,
      }, body))
    end
    n = n + 1
  end
end

function request()
  at = at + 1
  if at > #deliveries then
    at = 1
    wraps = wraps + 1
  end
  return deliveries[at]
end

function response(status, headers, body)
  count_status(status)
end
