-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (15)
print(#string.char(0, 1, 2), string.byte(string.char(200)))
print(pcall(string.char, 256))
