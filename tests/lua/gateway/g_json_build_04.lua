-- build a JSON-ish body with string.format and table.concat (input 4)
local function esc(s) return (s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end)) end
local function json(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = t[k]
    local enc = type(v) == "string" and ('"' .. esc(v) .. '"') or tostring(v)
    parts[#parts + 1] = string.format('"%s":%s', k, enc)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end
print(json({}))
