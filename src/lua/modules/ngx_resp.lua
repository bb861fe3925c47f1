-- ngx.resp (lua-resty-core's lib/ngx/resp.lua): `add_header(name, value)` appends
-- response header lines through ngx.header, keeping those already set; `set_status`
-- sets the status (the reason phrase cannot be chosen on proxy-wasm hosts).
local type, ipairs, tonumber = type, ipairs, tonumber

local function add_header(key, value)
  local current = ngx.header[key]
  local values = {}
  if type(current) == "table" then
    for _, v in ipairs(current) do values[#values + 1] = v end
  elseif current ~= nil then
    values[1] = current
  end
  if type(value) == "table" then
    for _, v in ipairs(value) do values[#values + 1] = v end
  elseif value ~= nil then
    values[#values + 1] = value
  end
  ngx.header[key] = values
end

local function set_status(status, reason)
  ngx.status = tonumber(status)
end

return { version = "0.1.30", add_header = add_header, set_status = set_status }
