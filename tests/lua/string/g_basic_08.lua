-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (8)
print(('hello'):sub(0, 1))
print(('hello'):sub(6, 10))
