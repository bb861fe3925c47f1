-- table library behaviour (10)
local t = {'pear', 'Apple', 'fig', 'banana'} table.sort(t) print(table.concat(t, ','))
local t = {} table.sort(t) print(#t)
