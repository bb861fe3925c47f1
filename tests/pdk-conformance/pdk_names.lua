-- Lists the public functions of Kong's PDK as `require("kong.pdk").new()` builds it.
--
--   luajit tests/pdk-conformance/pdk_names.lua KONG_TREE > docs/kong-pdk-functions.txt
--
-- KONG_TREE holds Kong's `kong/pdk` directory (e.g. `git --git-dir=... archive HEAD
-- kong/pdk | tar -x -C KONG_TREE`). The PDK's modules are loaded from it; everything else
-- they require (OpenResty's `ngx`, resty.*, cjson, Kong's other modules, ...) is an inert
-- stand-in, enough for the modules to build their tables. Prints one dotted name a line, sorted: every function
-- reachable from the `kong` table (callable tables too, e.g. `kong.log`), methods of the
-- objects the PDK hands out left aside. Nothing of Kong's is kept: only the names.
local root = assert(arg[1], "usage: pdk_names.lua KONG_TREE")
package.path = root .. "/?.lua;" .. root .. "/?/init.lua;" .. package.path

-- An inert value: any field is another inert value, calling one returns one.
local function inert(name)
  local t = {}
  return setmetatable(t, {
    __index = function(self, k)
      if k == "__name" then return name end
      local v = inert(name .. "." .. tostring(k))
      rawset(self, k, v)
      return v
    end,
    __call = function() return inert(name .. "()") end,
    __tostring = function() return "" end,
    __concat = function(a, b) return tostring(a) .. tostring(b) end,
    __len = function() return 0 end,
    __lt = function() return false end,
    __le = function() return true end,
    __unm = function() return 0 end,
    __add = function() return 0 end,
    __sub = function() return 0 end,
    __mul = function() return 0 end,
    __div = function() return 0 end,
  })
end

local stubs = {}
table.insert(package.loaders, 2, function(modname)
  if modname:match("^kong%.pdk") then
    return nil -- the PDK itself: from the tree (a missing one is an error worth seeing)
  end
  return function()
    stubs[modname] = true
    return inert(modname)
  end
end)

ngx = inert("ngx")
ngx.config.subsystem = "http"
ngx.config.ngx_lua_version = 10026
ngx.config.nginx_version = 1027004
ngx.null = inert("ngx.null")
ngx.re = inert("ngx.re")
ngx.get_phase = function() return "init" end
package.loaded["resty.core"] = inert("resty.core")
package.loaded["ffi"] = inert("ffi") -- OpenResty's C symbols are not in a plain LuaJIT
package.loaded["ffi"].arch = jit.arch
package.loaded["ffi"].os = jit.os

local pdk = require("kong.pdk")
-- some modules read the global `kong` (Kong sets it to the PDK instance) at load time
local kong = {}
_G.kong = kong
pdk.new({}, kong)

local names = {}
local seen = {}
local function walk(prefix, value, depth)
  if depth > 4 then return end
  local mt = getmetatable(value)
  if type(value) == "function" or (type(value) == "table" and mt and rawget(mt, "__call")) then
    names[#names + 1] = prefix
  end
  if type(value) ~= "table" or seen[value] then return end
  seen[value] = true
  local fields = {}
  for k, v in pairs(value) do fields[k] = v end
  -- fields a metatable's __index table lends (kong.log.new is _log_mt.new)
  local index = mt and rawget(mt, "__index")
  if type(index) == "table" then
    for k, v in pairs(index) do
      if fields[k] == nil then fields[k] = v end
    end
  end
  for k, v in pairs(fields) do
    if type(k) == "string" and k:match("^[%a][%w_]*$") then
      walk(prefix .. "." .. k, v, depth + 1)
    end
  end
end
for k, v in pairs(kong) do
  if k == "_log" then k = "log" end
  if type(k) == "string" and k ~= "configuration" then
    walk("kong." .. k, v, 1)
  end
end
table.sort(names)
for _, n in ipairs(names) do print(n) end
