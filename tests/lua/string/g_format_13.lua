-- string.format conversions, flags, width and precision (13)
print(string.format("%.2s", 'abcdef'))
print(string.format("%5.1s|", 'xyz'))
