-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (9)
print(string.byte('ABCDE'))
print(string.byte('ABCDE', 2))
