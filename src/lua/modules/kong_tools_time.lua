-- kong.tools.time, as Kong 3.10's kong/tools/time.lua over ngx.now / ngx.update_time /
-- ngx.req.start_time (milliseconds; time_ns has millisecond resolution here, as the
-- host's clock reaches Lua through ngx.now).
local floor, tonumber, error = math.floor, tonumber, error
local monotonic_msec = require("resty.core.time").monotonic_msec

local M = {}

-- nginx's ngx_parse_time(str, is_sec = 1): "1y 2M 3w 4d 5h 6m 7s", units in that order,
-- each at most once, spaces between; a bare number is seconds.
local UNITS = { y = 31536000, M = 2592000, w = 604800, d = 86400, h = 3600, m = 60, s = 1 }
local ORDER = { y = 1, M = 2, w = 3, d = 4, h = 5, m = 6, s = 7 }

function M.nginx_conf_time_to_seconds(str)
  local total, last, pos, len = 0, 0, 1, #str
  if len == 0 then error("bad argument #1 'str'", 2) end
  while pos <= len do
    local digits, unit, rest = str:match("^(%d+)(%a?)()", pos)
    if not digits then error("bad argument #1 'str'", 2) end
    local order = unit == "" and 8 or ORDER[unit]
    if not order or order <= last or (unit == "m" and str:sub(rest, rest) == "s") then
      error("bad argument #1 'str'", 2)
    end
    last = order
    total = total + tonumber(digits) * (UNITS[unit] or 1)
    pos = rest
    local spaces = str:match("^ +()", pos)
    if spaces then
      pos = spaces
    elseif pos <= len then
      error("bad argument #1 'str'", 2)
    end
  end
  return total
end

function M.time_ns()
  return floor(ngx.now() * 1000) * 1e6
end

function M.get_updated_now()
  ngx.update_time()
  return ngx.now()
end

function M.get_now_ms()
  return ngx.now() * 1000
end

function M.get_updated_now_ms()
  ngx.update_time()
  return ngx.now() * 1000
end

function M.get_start_time_ms()
  return ngx.req.start_time() * 1000
end

function M.get_updated_monotonic_ms()
  ngx.update_time()
  return monotonic_msec()
end

return M
