-- string.format conversions, flags, width and precision (10)
print(string.format("%g %g %g", 100000, 1000000, 1e-5))
print(string.format("%g %G", 0.0001, 1e-10))
