-- arithmetic, concatenation and unary-minus metamethods (piccolo 0.3.3 has none; comparison
-- metamethods are in tests/lua/metamethods/)
local V = {}
V.__add = function(a, b) return a.v + b.v end
V.__concat = function(a, b) return "cat" end
V.__unm = function(a) return -a.v end
local a, b = setmetatable({v = 1}, V), setmetatable({v = 2}, V)
print(pcall(function() return a + b end))
print(pcall(function() return a .. "x" end))
print(pcall(function() return -a end))
