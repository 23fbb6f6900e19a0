-- PUT /projects/:id/tabs: thread n (one connection per thread, so request and response alternate)
-- owns line n+1 of the file (argument 1): path, token, ETag, then the tabs as JSON objects, tab
-- separated. Each request drags the first tab to the end under If-Match; the ETag of every answer
-- (200, and the 412 that names the current version) is used for the next request.
local target, token, etag
local tabs = {}

function init(args)
  local n = 0
  for line in io.lines(args[1]) do
    if n == tid then
      local fields = {}
      for field in string.gmatch(line, "[^\t]+") do table.insert(fields, field) end
      target, token, etag = fields[1], fields[2], fields[3]
      for i = 4, #fields do table.insert(tabs, fields[i]) end
    end
    n = n + 1
  end
  assert(target, "no project line for thread " .. tid)
end

function request()
  table.insert(tabs, table.remove(tabs, 1))
  return wrk.format("PUT", target, {
    ["authorization"] = "Bearer " .. token,
    ["content-type"] = "application/json",
    ["if-match"] = etag,
  }, '{"tabs":[' .. table.concat(tabs, ",") .. ']}')
end

function response(status, headers, body)
  count_status(status)
  local answer = headers["etag"] or headers["ETag"]
  if answer then etag = answer end
end
