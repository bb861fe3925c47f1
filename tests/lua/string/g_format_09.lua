-- string.format conversions, flags, width and precision (9)
print(string.format("%.0f %.1f %.10f", 2.5, 0.05, 1/3))
print(string.format("%10.3f|%-10.3f|", 3.14159, 3.14159))
