-- string.format conversions, flags, width and precision (24)
print(string.format("%3d|%-3d|", 1000, 1000))
print(string.format("%.0e", 15000))
