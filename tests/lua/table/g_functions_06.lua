-- table library behaviour (6)
local t = {} table.insert(t, 3, 'x') print(t[3], #t == 0 or #t == 3)
local t = {1, 2, 3} print(table.remove(t), table.concat(t, ','))
