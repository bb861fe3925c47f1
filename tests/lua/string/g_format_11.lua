-- string.format conversions, flags, width and precision (11)
print(string.format("%.3g %.10g", 3.14159, 1/3))
print(string.format("%#g", 1))
