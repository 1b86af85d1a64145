-- wrk script for `manage.py loadtest`: the workspace's mixed workload, as signed-in tablets.
--
-- Arguments (after the URL): the data file written by the command, the first session slot to
-- use, and the number of wrk threads. The data file has one item a line:
--   cookie <Cookie header value>       one per signed-in session, used in turn
--   read <path>                        a page to GET (Today, client pages), in the order given
--   post <path> <urlencoded body>      one session to log; each line is used at most once
-- Every fifth request logs a session (20%); the others read the pages in turn (80%). Thread n
-- of N logs slots first+n-1, first+n-1+N, ... so no two threads log the same slot. When the
-- slots run out a read is sent instead, and counted, so the command can say so.
--
-- Responses are counted by what they mean: "read" (200), "logged" (302 to the client's page),
-- "refused" (the session form came back: 200 with the form), "signed_out" (302 to the sign-in
-- page) and any other status by its number. done() prints one "loadtest.<name> <value>" line
-- each, for the command to read.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_number", #threads)
end

local cookies, reads, slots = {}, {}, {}
local sent, next_read, next_slot = 0, 0, 0
counts = {}

local function count(name)
   counts[name] = (counts[name] or 0) + 1
end

function init(args)
   local data, first, thread_count = args[1], tonumber(args[2]), tonumber(args[3])
   local index = 0
   for line in io.lines(data) do
      local kind, rest = line:match("^(%S+) (.*)$")
      if kind == "cookie" then
         table.insert(cookies, rest)
      elseif kind == "read" then
         table.insert(reads, rest)
      elseif kind == "post" then
         index = index + 1
         if index >= first and (index - first) % thread_count == thread_number - 1 then
            local path, body = rest:match("^(%S+) (%S*)$")
            table.insert(slots, { path, body })
         end
      end
   end
   counts = { slots_used = 0 }
end

function request()
   sent = sent + 1
   local headers = { Cookie = cookies[sent % #cookies + 1] }
   if sent % 5 == 0 then
      next_slot = next_slot + 1
      local slot = slots[next_slot]
      if slot then
         counts.slots_used = next_slot
         headers["Content-Type"] = "application/x-www-form-urlencoded"
         return wrk.format("POST", slot[1], headers, slot[2])
      end
      count("post_skipped")
   end
   next_read = next_read % #reads + 1
   return wrk.format("GET", reads[next_read], headers)
end

function response(status, headers, body)
   local location = headers["Location"] or headers["location"] or ""
   if status == 302 then
      count(location:find("/accounts/login/", 1, true) and "signed_out" or "logged")
   elseif status == 200 then
      count(body:find('name="areas-TOTAL_FORMS"', 1, true) and "refused" or "read")
   else
      count(tostring(status))
   end
end

function done(summary, latency, requests)
   local totals, slots_used = {}, 0
   for _, thread in ipairs(threads) do
      for name, value in pairs(thread:get("counts")) do
         if name == "slots_used" then
            slots_used = math.max(slots_used, value)
         else
            totals[name] = (totals[name] or 0) + value
         end
      end
   end
   local function out(name, value)
      io.write(string.format("loadtest.%s %s\n", name, value))
   end
   out("duration_us", summary.duration)
   out("requests", summary.requests)
   out("bytes", summary.bytes)
   for name, value in pairs(summary.errors) do
      out("error." .. name, value)
   end
   for _, p in ipairs({ 50, 95, 99 }) do
      out("latency_us.p" .. p, latency:percentile(p))
   end
   out("latency_us.mean", latency.mean)
   out("latency_us.max", latency.max)
   -- Slots each thread may have used: the next run starts after them.
   out("slots_used", slots_used * #threads)
   for name, value in pairs(totals) do
      out("count." .. name, value)
   end
end
