-- base library: types, errors, metatables, varargs (17)
print(pcall(tostring))
print(type(ipairs({})))
