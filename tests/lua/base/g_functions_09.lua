-- base library: types, errors, metatables, varargs (9)
local t = setmetatable({}, {__tostring = function() return 'I am T' end}) print(tostring(t), t)
local mt = {__metatable = 'locked'} local t = setmetatable({}, mt) print(getmetatable(t), pcall(setmetatable, t, {}))
