-- string.format conversions, flags, width and precision (14)
print(string.format("%s %s %s", 1, 2.5, true))
print(string.format("%s", nil))
