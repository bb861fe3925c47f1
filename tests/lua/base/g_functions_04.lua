-- base library: types, errors, metatables, varargs (4)
local ok, e = pcall(function() error('no position', 0) end) print(ok, e)
local ok, e = pcall(function() error(42) end) print(ok, e)
