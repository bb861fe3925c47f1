-- string.format conversions, flags, width and precision (3)
print(string.format("%d", 3.99))
print(string.format("%d", -3.99))
