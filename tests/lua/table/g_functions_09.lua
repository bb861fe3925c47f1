-- table library behaviour (9)
local t = {5, 2, 8, 1, 9, 3} table.sort(t) print(table.concat(t, ','))
local t = {5, 2, 8, 1, 9, 3} table.sort(t, function(a, b) return a > b end) print(table.concat(t, ','))
