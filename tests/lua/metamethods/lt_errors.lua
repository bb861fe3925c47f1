-- comparisons that have no metamethod to call are errors, as in LuaJIT
local function p(f) print(pcall(f)) end
local A = {__lt = function() return true end, __le = function() return true end}
local B = {__lt = function() return true end}
local a1, a2, b1 = setmetatable({}, A), setmetatable({}, A), setmetatable({}, B)
p(function() return a1 < a2 end)
p(function() return a1 < b1 end)
p(function() return b1 < a1 end)
p(function() return a1 <= b1 end)
p(function() return a1 < 1 end)
p(function() return 1 < a1 end)
p(function() return a1 < "x" end)
p(function() return {} < {} end)
p(function() return setmetatable({}, {}) <= setmetatable({}, {}) end)
-- two tables sharing one __lt through different metatables
local lt = function(a, b) return a.n < b.n end
local m1, m2 = {__lt = lt}, {__lt = lt}
print(setmetatable({n = 1}, m1) < setmetatable({n = 2}, m2))
print(setmetatable({n = 1}, m1) <= setmetatable({n = 2}, m2))
-- an error inside the metamethod propagates
p(function() return setmetatable({}, {__lt = function() error("inside") end}) < setmetatable({}, {}) end)
local E = {__lt = function() error("inside lt") end}
p(function() return setmetatable({}, E) < setmetatable({}, E) end)
