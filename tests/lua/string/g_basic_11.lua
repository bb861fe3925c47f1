-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (11)
print(string.byte('ABCDE', 10))
print(string.byte('ABCDE', 0))
