-- base library: types, errors, metatables, varargs (6)
print(assert(1, 'unused'), assert('v'))
print(pcall(assert))
