-- string.format conversions, flags, width and precision (21)
print(string.format("%.3f", 2/3))
print(string.format("%08.3f", -3.14159))
