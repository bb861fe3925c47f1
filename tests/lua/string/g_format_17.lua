-- string.format conversions, flags, width and precision (17)
print(string.format("%q", 42))
print(string.format("%%"))
