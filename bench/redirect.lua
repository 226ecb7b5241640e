-- wrk script: each request follows a different referral code from codes.txt, in turn, with a
-- browser user agent (so clicks are counted).
local codes = {}
local counter = 0
local offset = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
threads = {}

function init(args)
  for line in io.lines(os.getenv("CODES") or "codes.txt") do
    codes[#codes + 1] = line
  end
  offset = (id or 0) * math.floor(#codes / 2)
end

-- FIXED_PATH asks the same path every time instead (the server's floor, e.g. /healthz), with
-- the same script cost per request.
local fixed = os.getenv("FIXED_PATH")

function request()
  counter = counter + 1
  if fixed then
    return wrk.format("GET", fixed, { ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/120 Safari/537.36" })
  end
  local code = codes[((offset + counter) % #codes) + 1]
  return wrk.format("GET", "/r/" .. code, { ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/120 Safari/537.36" })
end
