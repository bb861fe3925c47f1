-- base library: types, errors, metatables, varargs (3)
local ok, e = pcall(error, {code = 42}) print(ok, type(e), e.code)
local ok, e = pcall(function() error('with position') end) print(ok, e)
