-- table library behaviour (14)
print(pcall(table.sort, {1, 2}, 3))
print(pcall(table.sort, {3, 1, 2}, function(a, b) error('comparator failed', 0) end))
