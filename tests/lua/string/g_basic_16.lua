-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (16)
print(pcall(string.char, -1))
print(pcall(string.char, 'x'))
