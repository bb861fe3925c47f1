-- string.format conversions, flags, width and precision (6)
print(string.format("%o", 64))
print(string.format("%c%c%c", 76, 117, 97))
