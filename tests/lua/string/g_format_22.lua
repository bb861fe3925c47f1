-- string.format conversions, flags, width and precision (22)
print(string.format("[%6.2f]", 1e3))
print(string.format("%e", 0))
