-- table library behaviour (14)
print(pcall(table.sort, {1, 2}, 3))
print(unpack({1, 2, 3})) print(unpack({1, 2, 3}, 2)) print(unpack({1, 2, 3}, 2, 3)) print(unpack({}, 1, 2))
