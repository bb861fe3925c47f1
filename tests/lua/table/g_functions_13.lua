-- table library behaviour (13)
print(pcall(table.sort, {3, 1, 2, 5, 4, 7, 6, 9, 8, 10, 12, 11}, function(a, b) return true end))
print(pcall(table.sort, {1, 'x', 2}))
