-- Arithmetic and concatenation on operands with no metamethod name the operand.
local t = setmetatable({}, { __index = function() return 1 end })
print(pcall(function() return t + 1 end))
print(pcall(function() return 1 - t end))
print(pcall(function() return -t end))
local C = setmetatable({}, { __concat = function(a, b) return "c" end })
print(pcall(function() return C .. "x" .. {} end))
print(pcall(function() return {} .. C end))
print(pcall(function() return nil .. C end))
