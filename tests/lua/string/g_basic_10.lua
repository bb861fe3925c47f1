-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (10)
print(string.byte('ABCDE', -1))
print(string.byte('ABCDE', 2, 4))
