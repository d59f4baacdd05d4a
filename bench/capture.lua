-- wrk script for the capture benchmark: POST one form-encoded submission per request, each
-- with an email no other request of this run uses (thread id + per-thread counter + a run
-- prefix given after "--"), so every request creates a lead rather than a repeat activity.
--
--   wrk -t2 -c16 -d20s --latency -s capture.lua http://127.0.0.1:PORT/f/KEY/ -- RUN_PREFIX

local threads = {}

function setup(thread)
   thread:set("thread_id", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   prefix = args[1] or "run"
   counter = 0
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
   wrk.headers["Accept"] = "application/json"
end

function request()
   counter = counter + 1
   -- A few hundred domains, as real traffic has: the address cleaning caches per domain.
   local body = "email=" .. prefix .. "." .. thread_id .. "." .. counter
      .. "%40company" .. (counter % 500) .. ".com"
      .. "&first_name=Ada&company=Acme+Analytics&title=VP+of+Sales"
      .. "&country=USA&employees=1%2C200"
   return wrk.format(nil, nil, nil, body)
end
