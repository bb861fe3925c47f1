-- build an escaped query string from sorted keys (input 1)
local function escape(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end
local function build(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do out[#out + 1] = escape(k) .. "=" .. escape(t[k]) end
  return table.concat(out, "&")
end
print(build({a = 1, b = "x y"}))
