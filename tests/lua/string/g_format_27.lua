-- string.format conversions, flags, width and precision (27)
print(pcall(string.format, "%d", "x"))
print(pcall(string.format, "%d"))
