-- Baseline B3's kong.* shim: the functions the benchmark scenarios call, written as
-- tests/bench/openresty/shim.lua writes them over ngx.* (Kong's argument checks, no
-- phase checks, plugin iterator or sandbox), here over five proxy-wasm host calls the
-- filter gives this chunk as `host` (src/lib.rs). Chunks run as Kong's serverless handler
-- runs them: in array order, and a chunk that returns a function on its first run is
-- replaced by that function (upvalue state, S4).

local host = ...
-- Set by kong.response.exit: the phase's later chunks do not run (ngx.exit in Kong).
local exited = false
local type, tostring, error, pairs = type, tostring, error, pairs
local get_request_header, set_request_header = host.get_request_header, host.set_request_header
local set_response_header, respond = host.set_response_header, host.respond

-- kong.request.get_header: header names looked up lower case, the lowered names cached
-- (the shim's var_names; proxy-wasm hosts keep header names lower case).
local names = setmetatable({}, {
  __index = function(t, name)
    local v = name:lower()
    t[name] = v
    return v
  end,
})

local function check_header(name, value)
  if type(name) ~= "string" then
    error("invalid header name \"" .. tostring(name) .. "\": got " .. type(name) .. ", expected string", 3)
  end
  local t = type(value)
  if t ~= "string" and t ~= "number" and t ~= "boolean" then
    error("invalid header value for \"" .. name .. "\": got " .. t .. ", expected string, number or boolean", 3)
  end
  return tostring(value)
end

-- The shim's cjson.encode stand-in for kong.response.exit's table bodies (objects and
-- arrays of strings, numbers and booleans; what the scenarios send).
local encode
local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end
function encode(value)
  local t = type(value)
  if t == "table" then
    local parts, n = {}, 0
    if #value > 0 then
      for i = 1, #value do parts[i] = encode(value[i]) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    for k, v in pairs(value) do
      n = n + 1
      parts[n] = encode_string(tostring(k)) .. ":" .. encode(v)
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif t == "string" then
    return encode_string(value)
  end
  return tostring(value)
end

kong = {
  request = {
    get_header = function(name)
      if type(name) ~= "string" then
        error("header name must be a string", 2)
      end
      return get_request_header(names[name])
    end,
  },
  service = {
    request = {
      set_header = function(name, value)
        set_request_header(name, check_header(name, value))
      end,
      clear_header = function(name)
        if type(name) ~= "string" then
          error("header name must be a string", 2)
        end
        set_request_header(name, nil)
      end,
    },
  },
  response = {
    set_header = function(name, value)
      set_response_header(name, check_header(name, value))
    end,
    -- Status, body (a table as JSON), headers: the filter sends the local reply when the
    -- phase's chunks are done (proxy_send_local_response) and stops the request.
    exit = function(status, body, headers)
      if type(status) ~= "number" or status < 100 or status > 599 then
        error("code must be a number between 100 and 599", 2)
      end
      local list, n = {}, 0
      if headers then
        for k, v in pairs(headers) do
          list[n + 1], list[n + 2], n = k, check_header(k, v), n + 2
        end
      end
      if type(body) == "table" then
        body = encode(body)
        list[n + 1], list[n + 2], n = "content-type", "application/json; charset=utf-8", n + 2
      end
      exited = true
      respond(status, body, unpack(list, 1, n))
    end,
  },
  log = {
    err = function() end,
    info = function() end,
  },
}
ngx = { arg = {} }

local phases = {}

-- Called by the filter at configure: one loaded chunk for `phase`.
local function add(phase, fn)
  local list = phases[phase] or {}
  phases[phase] = list
  list[#list + 1] = { fn = fn, first = true }
end

-- Called by the filter in each phase that has chunks.
local function run(phase)
  local list = phases[phase]
  exited = false
  for i = 1, #list do
    if exited then
      return
    end
    local entry = list[i]
    if entry.first then
      entry.first = false
      local ret = entry.fn()
      if type(ret) == "function" then
        entry.fn = ret
        ret()
      end
    else
      entry.fn()
    end
  end
end

return add, run
