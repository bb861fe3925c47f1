-- The end-to-end baseline of `bench e2e` (make bench-e2e): the benchmark scenarios'
-- Lua chunks (tests/bench/scenarios/) run by nginx + lua-nginx-module, OpenResty's
-- engine, which is what Kong's own pre-function/post-function run on.
--
-- This is a shim, not Kong: only the kong.* functions the scenarios call, each written
-- over ngx.* the way Kong's PDK (kong/pdk/*.lua, Kong 3.x) implements it, with Kong's
-- argument checks but without its phase checks, plugin iterator or sandbox. Chunks run
-- as Kong's serverless handler runs them: in array order, and a chunk that returns a
-- function on its first run is replaced by that function (upvalue state, S4).

local ngx = ngx
local type, tostring, error = type, tostring, error
local var, req = ngx.var, ngx.req

local ok, cjson = pcall(require, "cjson.safe")
if not ok then
  cjson = nil
end

local shim = {}
local scenarios = {}

-- kong.request.get_header: Kong reads ngx.var.http_<name> (kong.tools.http.get_header,
-- dashes to underscores, lower case, names cached).
local var_names = setmetatable({}, {
  __index = function(t, name)
    local v = "http_" .. name:lower():gsub("-", "_")
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

kong = {
  request = {
    get_header = function(name)
      if type(name) ~= "string" then
        error("header name must be a string", 2)
      end
      return var[var_names[name]]
    end,
  },
  service = {
    request = {
      -- ngx.req.set_header / clear_header, as kong/pdk/service/request.lua.
      set_header = function(name, value)
        req.set_header(name, check_header(name, value))
      end,
      clear_header = function(name)
        if type(name) ~= "string" then
          error("header name must be a string", 2)
        end
        req.clear_header(name)
      end,
    },
  },
  response = {
    -- ngx.header[name] = value, as kong/pdk/response.lua.
    set_header = function(name, value)
      if ngx.headers_sent then
        error("headers have already been sent", 2)
      end
      ngx.header[name] = check_header(name, value)
    end,
    -- Status, headers, body (a table as JSON), Content-Length, then ngx.exit: the
    -- request never reaches the upstream; header_filter, body_filter and log still run.
    exit = function(status, body, headers)
      if type(status) ~= "number" or status < 100 or status > 599 then
        error("code must be a number between 100 and 599", 2)
      end
      ngx.status = status
      if headers then
        for k, v in pairs(headers) do
          ngx.header[k] = v
        end
      end
      if type(body) == "table" then
        local json, err = cjson and cjson.encode(body)
        if not json then
          error(err or "no cjson", 2)
        end
        ngx.header["Content-Type"] = "application/json; charset=utf-8"
        body = json
      end
      if body then
        ngx.header["Content-Length"] = #body
        ngx.print(body)
      else
        ngx.header["Content-Length"] = 0
      end
      return ngx.exit(status)
    end,
  },
  log = {
    err = function(...) ngx.log(ngx.ERR, ...) end,
    info = function(...) ngx.log(ngx.INFO, ...) end,
  },
}

local function chunk(dir, name, source)
  if not source then
    local f = assert(io.open(dir .. "/" .. name))
    source = f:read("*a")
    f:close()
  end
  return { fn = assert(loadstring(source, "=" .. name)), first = true }
end

-- The scenarios of tests/bench/src/main.rs, phase by phase (S5: pre-function and
-- post-function, both with S2's chunks, run one after the other as Kong's plugin order).
function shim.init(dir)
  scenarios = {
    s0 = { log = { chunk(dir, "s0_log", "local _ = 1") } },
    s1 = { access = { chunk(dir, "s1_access.lua") } },
    s2 = { access = { chunk(dir, "s2_access.lua") }, header_filter = { chunk(dir, "s2_header_filter.lua") } },
    s3 = { body_filter = { chunk(dir, "s3_body_filter.lua") } },
    s4 = { access = { chunk(dir, "s4_access.lua") } },
    s5 = {
      access = { chunk(dir, "s2_access.lua"), chunk(dir, "s2_access.lua") },
      header_filter = { chunk(dir, "s2_header_filter.lua"), chunk(dir, "s2_header_filter.lua") },
    },
  }
end

-- Runs scenario `id`'s chunks for `phase`. When the scenario has body_filter chunks, the
-- upstream's Content-Length is dropped in header_filter (what our filter does; Kong
-- itself leaves it, README "Content-Length is kept right").
function shim.run(id, phase)
  local scenario = scenarios[id]
  if phase == "header_filter" and scenario.body_filter then
    ngx.header["Content-Length"] = nil
  end
  local list = scenario[phase]
  if not list then
    return
  end
  for i = 1, #list do
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

return shim
