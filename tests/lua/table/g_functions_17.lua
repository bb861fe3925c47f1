-- table library behaviour (17)
print(select('#', unpack({1, nil, 3}, 1, 3)), unpack({'a'}, 3))
print(table.maxn({}), table.maxn({1, 2, [10] = 3}), table.maxn({[1.5] = 1}))
