-- base library: types, errors, metatables, varargs (13)
local t = {} rawset(t, 'k', 'v') print(rawget(t, 'k'), rawget(t, 'none'))
print(_VERSION)
