-- GET of the script's first argument (a path) with one bearer token per request, cycling through
-- the tokens file (second argument, one token per line); threads start at different tokens.
local tokens = {}
local at = 0
local target

function init(args)
  target = args[1]
  for line in io.lines(args[2]) do
    if line ~= "" then table.insert(tokens, line) end
  end
  at = (tid * 997) % #tokens
end

function request()
  at = at % #tokens + 1
  return wrk.format("GET", target, { ["authorization"] = "Bearer " .. tokens[at] })
end

function response(status, headers, body)
  count_status(status)
end
