-- base library: types, errors, metatables, varargs (24)
print(#'\0\0', ('\65\066\x41'):byte(1, -1))
