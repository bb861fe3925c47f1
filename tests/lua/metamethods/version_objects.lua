-- version-like objects as Kong's `version` library (Kong/version.lua) defines them:
-- __eq and __lt on the elements, missing elements counting as 0; >= and <= go through
-- __lt (no __le), as its range:matches does
local mt
mt = {
  __eq = function(a, b)
    for i = 1, math.max(#a, #b) do
      if (a[i] or 0) ~= (b[i] or 0) then return false end
    end
    return true
  end,
  __lt = function(a, b)
    for i = 1, math.max(#a, #b) do
      if (a[i] or 0) < (b[i] or 0) then return true end
      if (a[i] or 0) > (b[i] or 0) then return false end
    end
    return false
  end,
  __tostring = function(self) return table.concat(self, ".") end,
}
local function v(s)
  local t = {}
  for n in s:gmatch("%d+") do t[#t + 1] = tonumber(n) end
  return setmetatable(t, mt)
end
local cases = {
  {"3.1.0", "3.1"}, {"3.1", "3.0"}, {"1.2", "1.10"}, {"2.8.1", "3.0.0"},
  {"3.4.2", "3.4.2"}, {"0.9", "0.10.1"}, {"10", "9.99"},
}
for _, c in ipairs(cases) do
  local a, b = v(c[1]), v(c[2])
  print(c[1], c[2], a == b, a ~= b, a < b, a <= b, a > b, a >= b)
end
local from, to = v("2.75"), v("3.50.3")
local function matches(x) return (x >= from) and (x <= to) end
print(matches(v("3.1.0")), matches(v("2.74")), matches(v("3.50.3")), matches(v("3.50.4")))
local list = {v("3.1"), v("1.0.2"), v("2.8"), v("1.10"), v("1.9.9")}
table.sort(list)
local out = {}
for i, x in ipairs(list) do out[i] = tostring(x) end
print(table.concat(out, " "))
table.sort(list, function(a, b) return a > b end)
out = {}
for i, x in ipairs(list) do out[i] = tostring(x) end
print(table.concat(out, " "))
