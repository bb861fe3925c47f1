-- string.format conversions, flags, width and precision (16)
print(string.format("%q", 'nul\0byte'))
print(string.format("%q", '\r\t\1'))
