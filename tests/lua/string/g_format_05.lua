-- string.format conversions, flags, width and precision (5)
print(string.format("%x %X", 255, 255))
print(string.format("%#x %#X %#o", 255, 255, 8))
