-- table library behaviour (7)
local t = {1, 2, 3} print(table.remove(t, 1), table.concat(t, ','))
local t = {} print(table.remove(t), #t)
