-- wrk script for the live-updates figure: each request is one open queue page asking
-- /queue/live/ whether its queue changed, with its session cookie and the version it shows.
--
--   wrk -t2 -c500 -d45s --latency -s live.lua URL -- PAGES_FILE MODE PAUSE_MS THREADS CONNECTIONS
--
-- PAGES_FILE: one open page a line, "SESSION_KEY ETAG". MODE "same" sends the page's version
-- (the server answers 304), "stale" an old one (the server renders the list: a changed poll).
-- PAUSE_MS: how long a connection waits between its polls (the page's interval; 0: as fast as
-- the server answers). THREADS and CONNECTIONS: wrk's -t and -c.

local threads = {}

function setup(thread)
   thread:set("thread_id", #threads)
   table.insert(threads, thread)
end

function init(args)
   pages = {}
   for line in io.lines(args[1]) do
      local session, etag = line:match("^(%S+) (.+)$")
      table.insert(pages, { session, etag })
   end
   n304, n200, nother = 0, 0, 0
   mode = args[2] or "same"
   pause = tonumber(args[3] or "0")
   step = tonumber(args[4] or "1")
   counter = thread_id
   first_delays = math.ceil(tonumber(args[5] or "0") / step)
   math.randomseed(os.time() + thread_id)
end

function request()
   current = pages[(counter % #pages) + 1]
   local page = current
   counter = counter + step
   local headers = { ["Cookie"] = "sessionid=" .. page[1], ["Accept"] = "text/html" }
   if pause > 0 then
      -- The server closes a connection idle for longer than its keep-alive (5 s, shorter than
      -- the interval): a page's browser opens a new one for each poll, and so does wrk.
      headers["Connection"] = "close"
   end
   if mode == "same" then
      headers["If-None-Match"] = page[2]
   else
      headers["If-None-Match"] = '"stale"'
   end
   return wrk.format("GET", nil, headers)
end

-- As the page does: a changed poll's answer carries the version the page shows from then on.
-- (wrk runs one request at a time per connection, so ``current`` is the page just asked for.)
function response(status, headers, body)
   if status == 304 then
      n304 = n304 + 1
   elseif status == 200 then
      n200 = n200 + 1
      if mode == "same" and headers["ETag"] then
         current[2] = headers["ETag"]
      end
   else
      nother = nother + 1
   end
end

-- Open pages are not in step: a connection's first poll comes at a random point of the first
-- interval (wrk delays a connection's first request too), then one every interval. Each thread
-- holds CONNECTIONS / THREADS connections, and their first delays are its first calls.
function delay()
   if first_delays > 0 then
      first_delays = first_delays - 1
      return math.random(0, pause)
   end
   return pause
end

function done(summary, latency, requests)
   local a, b, c = 0, 0, 0
   for _, thread in ipairs(threads) do
      a = a + thread:get("n304")
      b = b + thread:get("n200")
      c = c + thread:get("nother")
   end
   io.write(string.format("statuses: 304 %d, 200 %d, other %d\n", a, b, c))
end
