-- table library behaviour (16)
print(pcall(string.format, '%d', {})) print(pcall(string.format, '%q'))
print(unpack({1, 2, 3})) print(unpack({1, 2, 3}, 2)) print(unpack({1, 2, 3}, 2, 3)) print(unpack({}, 1, 2))
