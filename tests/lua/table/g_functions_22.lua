-- table library behaviour (22)
print(next({}), type(next({1})), next({}, nil))
print(#{1, 2, 3}, #{}, #'abc')
