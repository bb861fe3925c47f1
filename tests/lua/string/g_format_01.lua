-- string.format conversions, flags, width and precision (1)
print(string.format("%d", 42))
print(string.format("%5d|%-5d|%05d", 42, 42, 42))
