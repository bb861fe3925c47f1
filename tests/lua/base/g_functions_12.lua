-- base library: types, errors, metatables, varargs (12)
print(1 == 1.0, '1' == 1, 0.5 == 1/2)
print(rawequal('a', 'a'), rawequal({}, {}), rawequal(1, 1.0))
