-- table library behaviour (1)
local t = {1, 2, 3} print(table.concat(t), table.concat(t, ', '), table.concat(t, '-', 2), table.concat(t, '-', 2, 3), table.concat(t, '-', 3, 2))
print(table.concat({}), table.concat({'a'}), table.concat({1, 2.5, 'x'}, ' '))
