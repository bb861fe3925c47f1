-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (14)
print(string.char(0, 255))
print(string.char(65))
