-- GET of the URL given to wrk, statuses counted.
function response(status, headers, body)
  count_status(status)
end
