-- ngx.req (lua-resty-core's lib/ngx/req.lua): `add_header(name, value)` appends request
-- header lines (a table value appends each), keeping the lines already there.
local type, ipairs, tostring = type, ipairs, tostring

local function add_header(key, value)
  local current = ngx.req.get_headers(0)[key]
  local values = {}
  if type(current) == "table" then
    for _, v in ipairs(current) do values[#values + 1] = v end
  elseif current ~= nil then
    values[1] = current
  end
  if type(value) == "table" then
    for _, v in ipairs(value) do values[#values + 1] = tostring(v) end
  elseif value ~= nil then
    values[#values + 1] = value
  end
  ngx.req.set_header(key, values)
end

return { version = "0.1.30", add_header = add_header }
