-- base library: types, errors, metatables, varargs (16)
print(type(loadstring('local a = 1')))
local f = loadstring('local a, b = ... return a * b') print(f(6, 7))
