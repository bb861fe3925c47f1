-- a tail call to a library function: its error has no position and names the function
-- "?" (the calling frame is gone); a method call keeps its position (an operator here)
print(pcall(function() return string.rep() end))
print(pcall(function() local s = "x" return s:nosuch() end))
print(pcall(function() return error("boom") end))
print(pcall(function() return assert(false, "msg") end))
local function f() return error("deep") end
print(pcall(function() f() end))
print(pcall(function() local s = "x" return s:rep() end))
print(pcall(function() return tostring() end))
local function g(t) return t.x .. "y" end
print(pcall(function() return g({}) end))
