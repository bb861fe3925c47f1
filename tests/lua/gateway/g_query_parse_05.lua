-- parse a query string with percent-decoding (input 5)
local function unescape(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end
local function parse(q)
  local args, keys = {}, {}
  for pair in q:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    k, v = unescape(k), unescape(v)
    if args[k] == nil then keys[#keys + 1] = k end
    args[k] = v
  end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do out[#out + 1] = k .. "=" .. args[k] end
  return table.concat(out, ";")
end
print(parse("dup=1&dup=2"))
