-- string.format conversions, flags, width and precision (29)
print(pcall(string.format, "%-"))
print(string.format('%d', '10'), string.format('%s', 10/2), string.format('%5s', 1e15))
