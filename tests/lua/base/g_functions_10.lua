-- base library: types, errors, metatables, varargs (10)
print(getmetatable('abc').__index == string, getmetatable({}), getmetatable(1))
local mt = {__eq = function() return true end} local a, b = setmetatable({}, mt), setmetatable({}, mt) print(a == b, rawequal(a, b))
