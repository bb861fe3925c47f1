-- table library behaviour (3)
print(pcall(table.concat, {true}))
local t = {} table.insert(t, 'a') table.insert(t, 'b') table.insert(t, 1, 'c') print(table.concat(t, ','), #t)
