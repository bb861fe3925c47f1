-- string.format conversions, flags, width and precision (12)
print(string.format("%s", 'str'))
print(string.format("%10s|%-10s|", 'right', 'left'))
