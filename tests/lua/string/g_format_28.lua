-- string.format conversions, flags, width and precision (28)
print(pcall(string.format, "%s"))
print(pcall(string.format, "%", 1))
