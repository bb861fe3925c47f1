-- string.format conversions, flags, width and precision (25)
print(string.format("%G", 1e20))
print(string.format("%f", 1e15))
