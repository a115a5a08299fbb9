-- The requests of one hot path, for Debian's wrk (LuaJIT): bench/load.ts writes a spec file and runs
--   CRUMB_WRK_SPEC=FILE wrk -t1 -c50 -d10s --timeout 10s -s bench/wrk.lua URL
-- The spec holds one setting a line, "name value" (bench/paths.ts says what each path sends):
--   method GET|POST        target /path?query       body TEXT        header Name: value (repeated)
--   data FILE  (traffic: column names on the first line, then one row a line, separated by spaces)
--   seq N      (the first request's {n}: unique across the run)
--   status N   in HEADER|body   need TEXT (plain)   id LUA-PATTERN (one capture)
--   ids FILE   (read the answers: each thread writes the id of every success to FILE.THREAD)
--   delay MS   (wait between a connection's requests: a paced reader, not a load)
--   out FILE   (the summary, as JSON, written when the run ends)
-- Templates take {n}, {h} (n hashed) and the data's columns ({a} {c}, or {reqid} {offer}).
-- Without "ids" the answers are not read: wrk itself counts those with a status of 400 or more.

local spec = { header = {} }
for line in io.lines(os.getenv("CRUMB_WRK_SPEC")) do
  local name, value = line:match("^(%S+) (.*)$")
  if name == "header" then
    local h, v = value:match("^([^:]+):%s*(.*)$")
    spec.header[h] = v
  elseif name then
    spec[name] = value
  end
end

-- A template as its pieces: literal text, and {name} as a table naming the value to put there.
local function compile(template)
  local parts, pos = {}, 1
  while template do
    local s, e, name = template:find("{(%w+)}", pos)
    if not s then
      parts[#parts + 1] = template:sub(pos)
      break
    end
    parts[#parts + 1] = template:sub(pos, s - 1)
    parts[#parts + 1] = { name }
    pos = e + 1
  end
  return parts
end

local target, body = compile(spec.target), spec.body and compile(spec.body)

local function fill(parts, row)
  local out = {}
  for i = 1, #parts do
    local p = parts[i]
    if type(p) == "table" then
      p = row[p[1]]
      if p == nil then error("the template names {" .. parts[i][1] .. "}, which the traffic file has no column for") end
    end
    out[i] = p
  end
  return table.concat(out)
end

-- The traffic, read by each thread (init), not by the main state that only sums up.
local rows = { {} }
local function read(file)
  rows = {}
  local columns
  for line in io.lines(file) do
    local values = {}
    for v in line:gmatch("%S+") do values[#values + 1] = v end
    if not columns then
      columns = values
    elseif #values > 0 then
      local row = {}
      for i, c in ipairs(columns) do row[c] = values[i] end
      rows[#rows + 1] = row
    end
  end
  assert(#rows > 0, "no traffic in " .. file)
end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
end

local n, ids
answered, failed, failure = 0, 0, nil
function init(args)
  if spec.data then read(spec.data) end
  -- Threads count from their own block of numbers.
  n = tonumber(spec.seq or 0) + (tid - 1) * 10000000
  if spec.ids then ids = assert(io.open(spec.ids .. "." .. tid, "w")) end
end

-- {h}: eight hex digits in no order, for values that real traffic sends in no order, such as
-- emails: n times 2654435761 (Knuth's multiplicative hash) modulo 2^32, multiplied in 16-bit
-- halves. The whole product passes 2^53 for the bench's numbers (each load's start at a multiple of
-- 10^9), where a double drops its low bits: that hash stepped by 1/6,600 of the range from one n to
-- the next, so the emails of a commit fell on neighbouring pages of the email indexes, a write far
-- cheaper than a real lead's (and only the large network's offer-first dedupe key paid the real one).
local function hash(n)
  local x = bit.tobit(n)
  return bit.tohex(bit.tobit(x * 0x79B1) + bit.lshift(bit.tobit(x * 0x9E37), 16))
end

function request()
  n = n + 1
  local row = rows[n % #rows + 1]
  row.n = n
  row.h = hash(n)
  return wrk.format(spec.method, fill(target, row), spec.header, body and fill(body, row))
end

if spec.delay then
  local ms = tonumber(spec.delay)
  function delay() return ms end
end

if spec.ids then
  local status, where, need, pattern = tonumber(spec.status), spec["in"], spec.need, spec.id
  local lower = where:lower()
  function response(code, headers, text)
    if code == status then
      local source = text
      if where ~= "body" then source = headers[where] or headers[lower] end
      if source and (not need or source:find(need, 1, true)) then
        if not pattern then
          answered = answered + 1
          return
        end
        local id = source:match(pattern)
        if id then
          answered = answered + 1
          ids:write(id, "\n")
          return
        end
      end
    end
    failed = failed + 1
    -- The first refusal, to show what went wrong.
    if not failure then failure = code .. " " .. (text or ""):sub(1, 300) end
  end
end

local function json(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(summary, latency, requests)
  local ok, bad, why = 0, 0, nil
  if spec.ids then
    for _, t in ipairs(threads) do
      ok = ok + t:get("answered")
      bad = bad + t:get("failed")
      why = why or t:get("failure")
    end
  else
    bad = summary.errors.status
    ok = summary.requests - bad
  end
  local e = summary.errors
  local out = assert(io.open(spec.out, "w"))
  out:write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"answered":%d,"failed":%d,' ..
      '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"failure":%s}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max, ok, bad,
    e.connect, e.read, e.write, e.timeout, why and json(why) or "null"))
  out:close()
end
