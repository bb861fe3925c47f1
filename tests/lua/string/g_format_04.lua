-- string.format conversions, flags, width and precision (4)
print(string.format("%i", 7))
print(string.format("%u", 42))
