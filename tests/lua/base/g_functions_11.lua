-- base library: types, errors, metatables, varargs (11)
local mt = {__call = function(self, x) return 'called ' .. x end} print(setmetatable({}, mt)(5))
print('10' + 1, '3' * '4', 10 .. 20, '2' ^ 2, -'2')
