-- base library: types, errors, metatables, varargs (19)
local s = 0 for i = 0.5, 2.5, 0.5 do s = s + i end print(s)
local function f(...) return select('#', ...), ... end print(f(1, nil, 3))
