-- feature flags packed in a bit field (input 3)
local FLAGS = {cache = 1, gzip = 2, cors = 4, auth = 8}
local function has(mask, name) return bit.band(mask, FLAGS[name]) ~= 0 end
local function names(mask)
  local out = {}
  for _, n in ipairs({"cache", "gzip", "cors", "auth"}) do if has(mask, n) then out[#out + 1] = n end end
  return table.concat(out, "+")
end
print(names(15), bit.tohex(15, 2))
