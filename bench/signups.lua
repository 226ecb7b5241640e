-- wrk script: each request enrols a new participant, `referred_by` one of the referrers in
-- codes.txt in turn (or none when ATTRIBUTED=0). Emails are unique per thread and request.
local codes = {}
local counter = 0
threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("CODES") or "codes.txt") do
    codes[#codes + 1] = line
  end
  attributed = os.getenv("ATTRIBUTED") ~= "0"
  run = os.getenv("RUN") or "r"
end

function request()
  counter = counter + 1
  local body
  if attributed then
    body = string.format('{"email":"%s-%d-%d@bench.example","first_name":"S","referred_by":"%s"}',
      run, id or 0, counter, codes[(counter % #codes) + 1])
  else
    body = string.format('{"email":"%s-%d-%d@bench.example","first_name":"S"}', run, id or 0, counter)
  end
  return wrk.format("POST", os.getenv("SIGNUP_PATH"), {
    ["Authorization"] = "Bearer " .. os.getenv("KEY"),
    ["Content-Type"] = "application/json",
  }, body)
end
