-- string.format conversions, flags, width and precision (18)
print(string.format("%5.1f%%", 99.44))
print(string.format("%a", 1))
