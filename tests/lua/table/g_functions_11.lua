-- table library behaviour (11)
local t = {1} table.sort(t) print(t[1])
local t = {3, 3, 1, 1, 2, 2} table.sort(t) print(table.concat(t, ','))
