-- base library: types, errors, metatables, varargs (21)
print((function() return 1, 2 end)())
local t = {(function() return 1, 2 end)(), (function() return 1, 2 end)()} print(#t)
