-- base library: types, errors, metatables, varargs (2)
print(pcall(select, 0, 'a'))
print(pcall(error)) print(pcall(error, nil)) print(pcall(error, 'plain', 0))
