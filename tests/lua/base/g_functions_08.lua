-- base library: types, errors, metatables, varargs (8)
print(xpcall(function(a, b) return a + b end, print, 2, 3))
print(pcall(pcall)) print(pcall(function() return pcall(error, 'inner', 0) end))
