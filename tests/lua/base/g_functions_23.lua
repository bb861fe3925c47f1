-- base library: types, errors, metatables, varargs (23)
print(2 < 3, 'a' < 'b', 'Z' < 'a', 'abc' < 'abd', '' < 'a')
print(not nil, not 0, nil and 1, false or 'x', 1 and 2)
