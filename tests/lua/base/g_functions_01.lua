-- base library: types, errors, metatables, varargs (1)
print(type(nil), type(1), type('s'), type({}), type(print), type(true), type(coroutine.create(function() end)))
print(select('#'), select('#', nil, nil), select(2, 'a', 'b', 'c'), select(-1, 'a', 'b'))
