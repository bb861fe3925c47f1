-- string.format conversions, flags, width and precision (26)
print(pcall(string.format, "%y", 1))
print(pcall(string.format, "%100d", 1))
