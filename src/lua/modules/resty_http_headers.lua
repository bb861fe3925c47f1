-- resty.http_headers (lua-resty-http 0.17.2, lib/resty/http_headers.lua): a table whose
-- field names are case-insensitive; a field keeps the case it was first set with.
local rawget, rawset, setmetatable, lower = rawget, rawset, setmetatable, string.lower

local M = { _VERSION = "0.17.2" }

function M.new()
  local mt = { normalised = {} }
  mt.__index = function(t, k)
    return rawget(t, mt.normalised[lower(k)])
  end
  mt.__newindex = function(t, k, v)
    local key = lower(k)
    if not mt.normalised[key] then
      mt.normalised[key] = k
      rawset(t, k, v)
    else
      rawset(t, mt.normalised[key], v)
    end
  end
  return setmetatable({}, mt)
end

return M
