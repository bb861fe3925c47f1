-- string.format conversions, flags, width and precision (7)
print(string.format("%5c|%-5c|", 65, 66))
print(string.format("%e", 12345.6789))
