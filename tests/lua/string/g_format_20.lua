-- string.format conversions, flags, width and precision (20)
print(string.format("%d", 2^31))
print(string.format("%d", 2^53))
