-- base library: types, errors, metatables, varargs (18)
local t = {} for i = 10, 1, -3 do t[#t + 1] = i end print(table.concat(t, ','))
local s = 0 for i = 1, 0 do s = s + 1 end print(s)
