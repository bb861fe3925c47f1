-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (13)
print(string.char(72, 101, 108, 108, 111))
print(string.char())
