-- Baseline B2 of the benchmark: the scenarios' Lua chunks under LuaJIT, natively, with a
-- minimal PDK shim (plain tables for the request, the service request and the response),
-- so the number is the cost of Kong's own engine for the Lua part alone.
--
-- usage: luajit bench.lua <scenario> <batches> <batch_size>
-- prints: <median_us> <p99_us> (per request, from per-batch timings)

local scenario, batches, batch_size = arg[1], tonumber(arg[2] or 200), tonumber(arg[3] or 1000)

-- A small JSON encoder standing in for cjson (objects of strings and numbers).
local function encode(value)
  if type(value) == "table" then
    local keys = {}
    for k in pairs(value) do keys[#keys + 1] = k end
    table.sort(keys)
    local parts = {}
    for i, k in ipairs(keys) do parts[i] = string.format("%q:%s", k, encode(value[k])) end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif type(value) == "string" then
    return string.format("%q", value)
  end
  return tostring(value)
end

local request_headers, upstream_headers, response_headers, exited = {}, {}, {}, nil

kong = {
  request = {
    get_header = function(name) return request_headers[name:lower()] end,
  },
  service = { request = {
    set_header = function(name, value) upstream_headers[name:lower()] = tostring(value) end,
    clear_header = function(name) upstream_headers[name:lower()] = nil end,
  } },
  response = {
    set_header = function(name, value) response_headers[name:lower()] = tostring(value) end,
    exit = function(status, body)
      if type(body) == "table" then body = encode(body) end
      exited = { status = status, body = body }
    end,
  },
  log = { info = function() end },
}
ngx = { arg = {} }

-- The chunks live in tests/bench/scenarios/, shared with the Rust side.
local dir = (arg[0]:match("^(.*)/luajit/[^/]*$") or ".") .. "/scenarios/"
local function read(name)
  local f = assert(io.open(dir .. name))
  local text = f:read("*a")
  f:close()
  return text
end

local function load_chunk(source)
  local chunk = assert(loadstring(source))
  return chunk
end

-- The scenarios: the same chunks the Rust side configures.
local S2_ACCESS = read("s2_access.lua")
local S2_HEADER_FILTER = read("s2_header_filter.lua")
local S1_ACCESS = read("s1_access.lua")
local S3_BODY_FILTER = read("s3_body_filter.lua")
local S4_ACCESS = read("s4_access.lua")

local body = {}
for i = 1, 160 do
  body[#body + 1] = string.format('{"id":%d,"status":"active","name":"user-%05d","team":"platform"}', i, i)
end
local JSON_BODY = "[" .. table.concat(body, ",") .. "]"

local function headers_s2()
  return { ["x-user"] = "  Alice ", ["x-tenant"] = "ACME", ["x-region"] = "EU-West", ["x-trace"] = "ABC123 ", accept = "application/json" }
end

local scenarios = {
  s0 = function() return { function() end }, function() end end,
  s1 = function()
    local access = load_chunk(S1_ACCESS)
    local n = 0
    return function()
      n = n + 1
      request_headers = (n % 2 == 0) and { ["x-custom-auth"] = "demo" } or {}
      upstream_headers = {}
      access()
    end
  end,
  s2 = function()
    local access, header_filter = load_chunk(S2_ACCESS), load_chunk(S2_HEADER_FILTER)
    return function()
      request_headers, upstream_headers, response_headers = headers_s2(), {}, {}
      access()
      header_filter()
    end
  end,
  s3 = function()
    local body_filter = load_chunk(S3_BODY_FILTER)
    return function()
      ngx.arg[1], ngx.arg[2] = JSON_BODY, false
      body_filter()
      ngx.arg[1], ngx.arg[2] = "", true
      body_filter()
    end
  end,
  s4 = function()
    local handler = load_chunk(S4_ACCESS)()
    return function()
      exited = nil
      handler()
    end
  end,
  s5 = function()
    local pre_access, pre_header = load_chunk(S2_ACCESS), load_chunk(S2_HEADER_FILTER)
    local post_access, post_header = load_chunk(S2_ACCESS), load_chunk(S2_HEADER_FILTER)
    return function()
      request_headers, upstream_headers, response_headers = headers_s2(), {}, {}
      pre_access()
      post_access()
      post_header()
      pre_header()
    end
  end,
}

local make = assert(scenarios[scenario], "unknown scenario " .. tostring(scenario))
local run = make()
if type(run) == "table" then run = run[1] end

for _ = 1, batch_size * 10 do run() end -- warm-up (and JIT compilation)
local times = {}
for b = 1, batches do
  local start = os.clock()
  for _ = 1, batch_size do run() end
  times[b] = (os.clock() - start) / batch_size * 1e6
end
table.sort(times)
local function pick(q) return times[math.max(1, math.min(#times, math.ceil(q * #times)))] end
print(string.format("%.3f %.3f", pick(0.5), pick(0.99)))
