-- string.format conversions, flags, width and precision (8)
print(string.format("%.2e %E", 0.000123, 1e300))
print(string.format("%f", 3.14159))
