-- base library: types, errors, metatables, varargs (7)
print(xpcall(function() return 1, 2 end, print))
print(xpcall(function() error('E', 0) end, function(m) return 'handled: ' .. m end))
