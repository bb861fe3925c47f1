-- string.format conversions, flags, width and precision (19)
print(string.format("%a %a", 0.5, 255))
print(string.format("%x", -1))
