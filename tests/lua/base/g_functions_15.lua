-- base library: types, errors, metatables, varargs (15)
print(tostring(nil), tostring(true), tostring(false), tostring('s'))
local f = loadstring('return 1 + 1') print(f())
