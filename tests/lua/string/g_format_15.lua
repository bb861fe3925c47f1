-- string.format conversions, flags, width and precision (15)
print(string.format("%q", 'line\nbreak'))
print(string.format("%q", 'quote"back\\slash'))
