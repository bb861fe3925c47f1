-- table library behaviour (4)
local t = {1, 2, 3} table.insert(t, 2, 9) print(table.concat(t, ','))
local t = {1, 2, 3} table.insert(t, 4, 9) print(table.concat(t, ','))
