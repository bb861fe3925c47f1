-- table library behaviour (8)
local t = {1, 2} print(table.remove(t, 5), table.concat(t, ','))
local t = {1, 2, 3} print(table.remove(t, 2), table.remove(t, 2), table.remove(t, 1), #t)
