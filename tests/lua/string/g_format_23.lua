-- string.format conversions, flags, width and precision (23)
print(string.format("%g", 0))
print(string.format("%s=%d", 'k', 1))
