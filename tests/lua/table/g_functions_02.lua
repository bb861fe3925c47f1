-- table library behaviour (2)
print(pcall(table.concat, {1, {}, 3}))
print(pcall(table.concat, {1, nil, 3}, ',', 1, 3))
