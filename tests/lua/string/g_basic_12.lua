-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (12)
print(string.byte('ABCDE', -3, -1))
print(string.byte('ABCDE', 3, 2))
