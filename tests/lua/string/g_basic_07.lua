-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (7)
print(('hello'):sub(2, 4))
print(('hello'):sub(-4, -2))
