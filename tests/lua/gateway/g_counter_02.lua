-- per-key counters kept in upvalues across calls (input 2)
local counts = {}
local function hit(key)
  counts[key] = (counts[key] or 0) + 1
  return counts[key]
end
for _, k in ipairs({"x"}) do io_write = nil end local r = {} for _, k in ipairs({"x"}) do r[#r + 1] = k .. '=' .. hit(k) end print(table.concat(r, ' '))
