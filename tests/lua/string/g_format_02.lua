-- string.format conversions, flags, width and precision (2)
print(string.format("%+d % d", 5, 5))
print(string.format("%d", -0))
