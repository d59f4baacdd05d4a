-- wrk script for the overload figure's capacity run: POST one form-encoded submission per
-- request with an email no other request uses, each from another of 100,000 client addresses
-- (X-Forwarded-For, which the server trusts as a proxy's header in this figure), so the
-- per-client limit of production (30/m) refuses nothing.
--
--   wrk -t2 -c16 -d10s --latency -s overload.lua http://127.0.0.1:PORT/f/KEY/

local threads = {}

function setup(thread)
   thread:set("thread_id", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   counter = 0
   wrk.method = "POST"
end

function request()
   counter = counter + 1
   local k = (thread_id * 50000 + counter) % 100000
   -- wrk.format takes these headers instead of wrk.headers, not beside them.
   local headers = {}
   headers["Content-Type"] = "application/x-www-form-urlencoded"
   headers["Accept"] = "application/json"
   headers["X-Forwarded-For"] = "10." .. (math.floor(k / 65536) % 256) .. "." .. (math.floor(k / 256) % 256) .. "." .. (k % 256)
   local body = "email=capacity." .. thread_id .. "." .. counter
      .. "%40company" .. (counter % 500) .. ".com"
      .. "&first_name=Ada&company=Acme+Analytics&title=VP+of+Sales"
      .. "&country=USA&employees=1%2C200"
   return wrk.format(nil, nil, headers, body)
end
