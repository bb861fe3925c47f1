-- base library: types, errors, metatables, varargs (20)
local function f(...) local t = {...} return #t end print(f(1, 2, 3))
local a, b, c = (function() return 1, 2, 3 end)() print(a, b, c)
