-- base library: types, errors, metatables, varargs (5)
local ok, e = pcall(function() assert(false) end) print(ok, e)
local ok, e = pcall(function() assert(nil, 'custom message') end) print(ok, e)
